"""The path past one machine: every province schema stands alone, so Citus's schema-based sharding
(or any other split) can move a province to another node.

- no table of a province has a foreign key out of its own schema (into public or another province);
- no statement a province's requests run names another schema, and each runs with the search path
  "<province>, public" (the host → province lookup alone runs in public, on the provinces tables);
- no product code writes a province's schema name into SQL.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django_tenants.utils import get_public_schema_name, tenant_context
from rest_framework.authtoken.models import Token

from conftest import otp_login
from dossiers.links import lookup_url
from dossiers.models import Procedure
from dossiers.tests.factories import ProcedureFactory, receive
from offices.tests.factories import DepartmentFactory, OfficerFactory
from provinces.demo import DEMO_PROVINCES

pytestmark = pytest.mark.django_db

PRODUCT_APPS = (
    "egov",
    "provinces",
    "offices",
    "dossiers",
    "zalo",
    "notifications",
    "broadcasts",
    "supplements",
    "ratings",
)
# The one module that names schemas in SQL: it creates a province's schema (DDL on the new schema).
# The two places that work across schemas on purpose: the template copy, and merging one province into
# another (reads the source, writes the target, names both explicitly).
NAMES_SCHEMAS = {Path("provinces/schemas.py"), Path("provinces/merging.py")}
PUBLIC_TABLES = {"provinces_domain", "provinces_province"}


def tenant_schemas():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%%' "
            "AND nspname NOT IN ('information_schema', %s)",
            [get_public_schema_name()],
        )
        return [row[0] for row in cursor.fetchall()]


def test_no_province_table_has_a_foreign_key_out_of_its_schema(provinces):
    schemas = tenant_schemas()
    assert {"danang", "camau"} <= set(schemas)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname, c.conrelid::regclass::text, c.conname, fn.nspname, c.confrelid::regclass::text "
            "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "JOIN pg_class f ON f.oid = c.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace "
            "WHERE c.contype = 'f' AND n.nspname = ANY(%s)",
            [schemas],
        )
        foreign_keys = cursor.fetchall()
    assert len(foreign_keys) > 20  # the province's own keys are there to be checked
    assert [fk for fk in foreign_keys if fk[0] != fk[3]] == []


class Recorder:
    """Every statement with the search path the server applied to it (asked on the raw connection)."""

    def __init__(self):
        self.statements = []

    def __call__(self, execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        finally:
            try:
                path = connection.connection.execute("SHOW search_path").fetchone()[0]
            except Exception:  # noqa: BLE001 -- an aborted transaction: the statement failed anyway
                path = None
            self.statements.append((path, sql))


def province_run(province):
    """Officers' and citizens' everyday requests in one province; returns the recorded statements."""
    host = {"HTTP_HOST": f"{province.schema_name}.localhost"}
    with tenant_context(province):
        desk = DepartmentFactory(code="TTHCC", name="Trung tâm hành chính công", is_reception=True)
        officer = OfficerFactory(role="reception", department=desk, user__username="motcua.iso")
        procedure = ProcedureFactory()
        dossier = receive(officer, procedure)
        token = Token.objects.create(user=officer.user).key
        admin = Client()
        otp_login(admin, officer.user)
        qr = lookup_url(dossier).split("://", 1)[-1].split("/", 1)[1]
        intake = {
            "procedure": procedure.code,
            "applicant": {"name": "Trần Thị Mai", "id_number": "048090001234", "phone": "0905123456"},
            "components": [{"name": c.name, "count": 1} for c in procedure.components.filter(required=True)],
        }
    connection.set_schema_to_public()
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    citizen = Client()
    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        responses = [
            admin.get("/admin/", **host),
            admin.get("/admin/dossiers/dossier/", **host),
            admin.get(f"/admin/dossiers/dossier/{dossier.pk}/change/", **host),
            api.get("/api/v1/dossiers/", **host),
            api.get(f"/api/v1/dossiers/{dossier.pk}/", **host),
            api.post("/api/v1/dossiers/", intake, "application/json", **host),
            citizen.post("/tra-cuu/", {"code": dossier.code, "verifier": "0905123456"}, **host),
            citizen.get("/" + qr, **host),
            citizen.post(
                "/api/v1/lookup/", {"code": dossier.code, "verifier": "0905123456"}, "application/json", **host
            ),
        ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 201, 200, 200, 200]
    return recorder.statements


def names_schema(sql, schema):
    return re.search(rf'(?<![\w"]){re.escape(schema)}"?\s*\.', sql) or re.search(rf'"{re.escape(schema)}"\s*\.', sql)


def test_a_provinces_requests_run_in_its_schema_alone(settings, danang, camau):
    settings.TENANT_CACHE_SECONDS = 0  # the host lookup on every request, to check it too
    schemas = tenant_schemas()
    for province in (danang, camau):
        statements = province_run(province)
        own_path = f"{province.schema_name}, public"
        assert len(statements) > 50
        lookups = [sql for path, sql in statements if path == get_public_schema_name()]
        assert lookups, "the host lookup runs in public"
        for sql in lookups:
            assert set(re.findall(r'"(\w+)"\.', sql)) <= PUBLIC_TABLES, sql
        assert {path for path, _sql in statements} == {get_public_schema_name(), own_path}
        for _path, sql in statements:
            others = [s for s in schemas if s != province.schema_name and names_schema(sql, s)]
            assert others == [], sql
        # And no statement of the province joins its own tables with public's: with Citus, public's
        # tables stay on the coordinator, where a province moved to another node cannot be joined
        # with them. A statement names the province's own tables, or public's registry alone (the
        # province's primary domain, read once and cached).
        own = relations_of(province.schema_name)
        mixed = []
        for path, sql in statements:
            if path != own_path:
                continue
            named = tables_named(sql)
            if not (named <= own or named <= PUBLIC_TABLES):
                mixed.append(sql)
        assert mixed == []
        assert len({t for path, sql in statements if path == own_path for t in tables_named(sql)} & own) > 10


def relations_of(schema):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s",
            [schema],
        )
        return {row[0] for row in cursor.fetchall()}


def tables_named(sql):
    """The tables a statement names: Django quotes them ("table"."column", FROM "table", ...)."""
    return set(re.findall(r'"(\w+)"\.', sql)) | set(
        re.findall(r'\b(?:FROM|JOIN|INTO|UPDATE)\s+"(\w+)"', sql, flags=re.IGNORECASE)
    )


def test_the_checks_catch_a_statement_that_reaches_another_province():
    assert names_schema('SELECT * FROM "camau"."dossiers_dossier"', "camau")
    assert names_schema("SELECT * FROM camau.dossiers_dossier", "camau")
    assert not names_schema('SELECT "dossiers_dossier"."camau_id" FROM "dossiers_dossier"', "camau")
    joined = (
        'SELECT "dossiers_dossier"."id" FROM "dossiers_dossier" '
        'INNER JOIN "provinces_domain" ON ("provinces_domain"."id" = "dossiers_dossier"."id")'
    )
    assert tables_named(joined) == {"dossiers_dossier", "provinces_domain"}
    assert tables_named('UPDATE "dossiers_dossier" SET "status" = 4') == {"dossiers_dossier"}


def test_no_product_code_qualifies_a_table_with_a_schema_name():
    slugs = "|".join(sorted(spec.slug for spec in DEMO_PROVINCES))
    patterns = [
        re.compile(rf'\b"?(?:{slugs})"?\."?[a-z]+_\w+'),  # a province's table (app_model) named in SQL
        re.compile(r'\{[^{}]*(?:schema|tenant)[^{}]*\}"?\.\s*["\w{]'),  # a schema put into SQL by formatting
        re.compile(r"search_path\s*=", re.IGNORECASE),  # only django-tenants sets the search path
    ]
    root = Path(settings.BASE_DIR)
    offenders = []
    for app in PRODUCT_APPS:
        for path in (root / app).rglob("*.py"):
            relative = path.relative_to(root)
            if "tests" in relative.parts or relative in NAMES_SCHEMAS:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if any(p.search(line) for p in patterns):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
    assert patterns[0].search('SELECT * FROM "danang"."dossiers_dossier"')  # the patterns do catch
    assert patterns[1].search('cursor.execute(f\'ALTER TABLE "{schema_name}"."x"\')')


def test_the_search_path_is_set_once_per_province_and_again_after_a_rollback(settings, danang, camau):
    """TENANT_LIMIT_SET_CALLS: one `SET search_path` for a run of statements in one province; a SET
    undone by ROLLBACK TO SAVEPOINT (the server is back on the previous province's path) is sent
    again before the next statement, never trusted."""
    assert settings.TENANT_LIMIT_SET_CALLS
    connection.set_tenant(camau)
    Procedure.objects.count()
    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        with pytest.raises(RuntimeError), transaction.atomic():
            connection.set_tenant(danang)
            Procedure.objects.count()
            Procedure.objects.count()
            raise RuntimeError
        Procedure.objects.count()
    danang_path, camau_path = "danang, public", "camau, public"
    assert [(sql.split()[0], path) for path, sql in recorder.statements] == [
        ("SAVEPOINT", camau_path),
        ("SET", danang_path),
        ("SELECT", danang_path),
        ("SELECT", danang_path),
        ("ROLLBACK", camau_path),  # the SET is undone with the savepoint...
        ("SET", danang_path),  # ...and sent again at once
        ("RELEASE", danang_path),
        ("SELECT", danang_path),
    ]
