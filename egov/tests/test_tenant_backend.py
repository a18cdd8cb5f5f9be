"""The search path a connection already has is kept across requests (egov/tenant_backend), never trusted
once the server may have dropped or undone it.

Each test runs on a connection of a web process's kind (autocommit, persistent, outside the test's
transaction: testing/wire.py) and asks the server itself which schema a statement ran in.
"""

import random

import psycopg
import pytest
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name

from testing.wire import new_request, own_connection, record_sent

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def schema_of_a_statement():
    """The schema an ORM-style statement of the current request runs in, as the server says."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


def sets(sent):
    return [s for s in sent if s.startswith("SET search_path")]


@pytest.fixture
def kept(danang):
    with own_connection(danang) as conn:
        yield conn


def test_a_connection_on_the_province_s_path_is_not_sent_it_again(kept, danang, camau, monkeypatch):
    sent = record_sent(monkeypatch)
    assert schema_of_a_statement() == "danang"
    assert sets(sent) == ['SET search_path = "danang","public"']
    for _ in range(3):  # three more requests in Đà Nẵng: public first, as the tenant middleware does
        new_request(kept, danang)
        sent.clear()
        assert schema_of_a_statement() == "danang"
        assert sets(sent) == []
    new_request(kept, camau)
    sent.clear()
    assert schema_of_a_statement() == "camau"
    assert sets(sent) == ['SET search_path = "camau","public"']
    kept.set_schema_to_public()  # a host looked up in public, then the province again
    assert schema_of_a_statement() == get_public_schema_name()
    kept.set_tenant(camau)
    sent.clear()
    assert schema_of_a_statement() == "camau"
    assert sets(sent) == ['SET search_path = "camau","public"']


def test_a_set_undone_by_a_rollback_is_sent_again(kept, danang, camau):
    """A SET sent inside a transaction that rolls back is undone by the server: the wrapper forgets it."""
    assert schema_of_a_statement() == "danang"
    with pytest.raises(Boom), transaction.atomic():
        kept.set_tenant(camau)
        assert schema_of_a_statement() == "camau"
        raise Boom
    # The server is back on Đà Nẵng's path; a request in Cà Mau must not take it for its own.
    new_request(kept, camau)
    assert schema_of_a_statement() == "camau"


def test_a_set_undone_by_a_rollback_to_savepoint_is_sent_again(kept, danang, camau):
    with transaction.atomic():
        assert schema_of_a_statement() == "danang"
        with pytest.raises(Boom), transaction.atomic():
            kept.set_tenant(camau)
            assert schema_of_a_statement() == "camau"
            raise Boom
        # Still in the outer transaction, the server back on Đà Nẵng's path; Cà Mau again (a tenant_context).
        kept.set_schema_to_public()
        kept.set_tenant(camau)
        assert schema_of_a_statement() == "camau"
    kept.set_tenant(danang)
    assert schema_of_a_statement() == "danang"


def test_a_new_connection_is_sent_the_path_even_when_the_old_one_had_it(kept, danang, monkeypatch):
    assert schema_of_a_statement() == "danang"
    pid = kept.connection.info.backend_pid
    with psycopg.connect(kept.connection.info.dsn, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            admin.execute("SELECT pg_sleep(0.01)")
    sent = record_sent(monkeypatch)
    new_request(kept, danang)  # the health check finds the connection dead: a new one
    assert schema_of_a_statement() == "danang"
    assert kept.connection.info.backend_pid != pid
    assert sets(sent) == ['SET search_path = "danang","public"']
    kept.close()  # closed by Django (CONN_MAX_AGE ran out): the next connection is set up too
    sent.clear()
    new_request(kept, danang)
    assert schema_of_a_statement() == "danang"
    assert sets(sent) == ['SET search_path = "danang","public"']


@pytest.mark.parametrize("seed", range(4))
def test_every_statement_runs_in_its_request_s_province_whatever_came_before(kept, danang, camau, seed):
    """Requests in random provinces, some switching province inside committed or rolled-back
    transactions and savepoints: each statement runs in the schema the wrapper is set to."""
    rng = random.Random(seed)
    provinces = [danang, camau]
    for _ in range(60):
        province = rng.choice(provinces)
        new_request(kept, province)
        assert schema_of_a_statement() == province.schema_name
        action = rng.choice(["plain", "commit", "rollback", "savepoint", "public"])
        other = rng.choice(provinces)
        if action == "commit":
            with transaction.atomic():
                kept.set_tenant(other)
                assert schema_of_a_statement() == other.schema_name
        elif action == "rollback":
            with pytest.raises(Boom), transaction.atomic():
                kept.set_tenant(other)
                assert schema_of_a_statement() == other.schema_name
                raise Boom
        elif action == "savepoint":
            with transaction.atomic():
                assert schema_of_a_statement() == province.schema_name
                with pytest.raises(Boom), transaction.atomic():
                    kept.set_tenant(other)
                    assert schema_of_a_statement() == other.schema_name
                    raise Boom
                kept.set_tenant(other)
                assert schema_of_a_statement() == other.schema_name
        elif action == "public":
            kept.set_schema_to_public()
            assert schema_of_a_statement() == get_public_schema_name()
        kept.set_tenant(province)
        assert schema_of_a_statement() == province.schema_name
