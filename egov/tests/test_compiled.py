"""A SELECT compiled once (egov/compiled.py) must read exactly what the ORM reads, in the request's
province, never compile again in its thread, and take each value as a parameter, never as SQL."""

import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from egov.api import _token_with_user
from egov.auth_backends import PERMISSION_NAMES, _user_with_permissions
from egov.compiled import CompiledSelect
from offices.tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db


def _values(instance):
    return (
        None if instance is None else {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
    )


def _token_as_read(token):
    """Everything an authenticated request uses of its token: the token, user, officer, department, permissions."""
    user = token.user
    officer = getattr(user, "officer", None)
    return {
        "token": _values(token),
        "user": _values(user),
        "officer": _values(officer),
        "department": _values(officer.department if officer else None),
        "permissions": sorted(getattr(token, PERMISSION_NAMES)),
    }


@pytest.fixture
def compile_count(monkeypatch):
    calls = []
    original = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        calls.append(self.query.model)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    return calls


def test_a_token_reads_what_the_orm_reads_for_every_kind_of_user(in_danang, reception, specialist, leader):
    without_officer = User.objects.create_user("khong.can.bo", password="x")
    superuser = User.objects.create_superuser("quan.tri", password="x")
    compiled = CompiledSelect(_token_with_user, placeholder="p" * 41)
    users = [reception.user, specialist.user, leader.user, without_officer, superuser]
    for user in users:
        key = Token.objects.create(user=user).key
        read = compiled.first(key)
        assert _token_as_read(read) == _token_as_read(_token_with_user(key).get())
        assert read.user.pk == user.pk
    assert all(
        _token_as_read(compiled.first(t.key))["permissions"] for t in Token.objects.filter(user__officer__isnull=False)
    )
    assert _token_as_read(compiled.first(Token.objects.get(user=without_officer).key))["officer"] is None


def test_a_session_user_reads_what_the_orm_reads(in_danang, reception, leader):
    compiled = CompiledSelect(_user_with_permissions, placeholder=-(2**31))
    for user in (reception.user, leader.user):
        ours, orms = compiled.first(user.pk), _user_with_permissions(user.pk).get()
        assert _values(ours) == _values(orms)
        assert sorted(getattr(ours, PERMISSION_NAMES)) == sorted(getattr(orms, PERMISSION_NAMES)) != []
    assert compiled.first(10**9) is None


def test_compiled_once_per_thread_then_only_executed(in_danang, reception, specialist, compile_count):
    compiled = CompiledSelect(_token_with_user, placeholder="p" * 41)
    keys = [Token.objects.create(user=o.user).key for o in (reception, specialist)]
    compile_count.clear()
    assert compiled.first(keys[0]).user == reception.user
    assert len(compile_count) == 1
    for _ in range(3):
        assert compiled.first(keys[1]).user == specialist.user
        assert compiled.first(keys[0]).user == reception.user
        assert compiled.first("k" * 40) is None
    assert len(compile_count) == 1  # values change, the SQL is not compiled again

    seen = {}

    def other_thread():  # its own connection, so its own compilation (the test's rows are not committed)
        try:
            with tenant_context(in_danang):
                seen["found"] = compiled.first(keys[1])
                seen["plan"] = compiled._local.default
        finally:
            connection.close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(timeout=60)
    assert seen["found"] is None and len(compile_count) == 2
    assert seen["plan"] is not compiled._local.default and seen["plan"].sql == compiled._local.default.sql
    assert compiled.first(keys[1]).user == specialist.user and len(compile_count) == 2


def test_the_request_province_decides_not_the_province_it_was_compiled_in(danang, camau):
    compiled = CompiledSelect(_token_with_user, placeholder="p" * 41)
    with tenant_context(danang):
        here = Token.objects.create(user=OfficerFactory().user)
        assert compiled.first(here.key).user.pk == here.user.pk
    with tenant_context(camau):
        there = Token.objects.create(user=OfficerFactory().user)
        assert compiled.first(here.key) is None  # Đà Nẵng's token opens nothing in Cà Mau
        read = compiled.first(there.key)
        assert read.user.username == there.user.username
        assert _token_as_read(read) == _token_as_read(_token_with_user(there.key).get())


def test_a_value_is_a_parameter_never_sql(in_danang, reception):
    compiled = CompiledSelect(_token_with_user, placeholder="p" * 41)
    Token.objects.create(user=reception.user)
    for key in ("' OR '1'='1", "x' OR key IS NOT NULL --", "p" * 41, "", "\\"):
        assert compiled.first(key) is None


def test_a_query_that_is_not_plain_is_refused(in_danang):
    twice = CompiledSelect(lambda v: User.objects.filter(username=v, first_name=v), placeholder="p" * 41)
    with pytest.raises(ValueError):
        twice.first("x")
    prefetching = CompiledSelect(lambda v: User.objects.filter(username=v).prefetch_related("groups"), "p" * 41)
    with pytest.raises(ValueError):
        prefetching.first("x")


def test_prepared_once_per_connection_and_logged_as_any_query(in_danang, reception):
    from django.test.utils import CaptureQueriesContext

    compiled = CompiledSelect(_token_with_user, placeholder="p" * 41)
    key = Token.objects.create(user=reception.user).key

    def prepared():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%authtoken_token%"])
            return cursor.fetchone()[0]

    before = prepared()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert compiled.first(key).user == reception.user
    assert prepared() == before + 1  # prepared by the first run, reused by the others
    logged = [q["sql"] for q in queries if "authtoken_token" in q["sql"]]
    assert len(logged) == 3 and all(key in sql for sql in logged)  # with its value, as Django logs queries


def test_a_revoked_token_replayed_is_refused_at_the_next_request(in_danang, reception):
    """Nothing of a token's answer is kept between requests: the statement is prepared, its result is not."""
    from django.test import Client

    token = Token.objects.create(user=reception.user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_HOST="danang.localhost")
    assert client.get("/api/v1/procedures/").status_code == 200
    assert client.get("/api/v1/procedures/").status_code == 200  # compiled and prepared by now
    Token.objects.filter(key=token.key).delete()
    response = client.get("/api/v1/procedures/")
    assert response.status_code == 401 and response.json()["error"]["code"] == "authentication_failed"
