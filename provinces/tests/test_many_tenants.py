"""A thousand provinces: a new province's schema is a copy of the migrated template, identical to
one the migrations build; `migrate_schemas` skips a schema with nothing to do and only such one."""

from unittest import mock

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connection, transaction
from django_tenants.utils import schema_context

from offices.roles import ROLES
from provinces import schemas
from provinces.services import ProvinceSpec, create_province

from .schema_shape import shape

pytestmark = pytest.mark.django_db

SPEC = ProvinceSpec("Tỉnh Bản Sao", "bansao", "bansao.localhost", "000.00.07.H98")


def migrated_schema(name):
    """A schema built the slow way: every migration (and post-migrate signal) run in it."""
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{name}"')
    call_command("migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def test_a_copied_province_is_the_schema_the_migrations_build():
    with mock.patch.object(schemas, "copy_template", side_effect=schemas.copy_template) as copy:
        create_province(SPEC)
    copy.assert_called_once_with("bansao")  # the fast path, not the migrations
    migrated_schema("bymigrations")
    with transaction.atomic():
        copied, migrated = shape("bansao"), shape("bymigrations")
    for part in migrated:
        assert copied[part] == migrated[part], part
    # What the comparison covers, so that it cannot pass on two empty descriptions:
    assert len(migrated["triggers"]) >= 5  # the append-only tables' triggers, on functions of the schema itself
    assert {t[4] for t in migrated["triggers"]} == {"<schema>"}
    assert any(name == "dossier_counter_unique_day" for _t, name, *_rest in migrated["constraints"])
    assert {seq: last for seq, *_rest, last in migrated["sequences"]}["dossiers_dossier_id_seq"] is None  # fresh
    assert migrated["rows"]["auth_group"]  # the role groups came with the copy


def test_a_copy_starts_its_sequences_fresh_and_keeps_the_triggers():
    province, _ = create_province(SPEC)
    with schema_context(province.schema_name), connection.cursor() as cursor:
        cursor.execute("SELECT last_value, is_called FROM dossiers_dossier_id_seq")
        assert cursor.fetchone() == (1, False)
        cursor.execute("SELECT count(*) FROM dossiers_dossierevent")
        assert cursor.fetchone() == (0,)
        cursor.execute(
            "SELECT p.pronamespace::regnamespace::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgname = 'dossiers_timeline_append_only' AND t.tgrelid = 'dossiers_dossierevent'::regclass"
        )
        assert cursor.fetchone() == ("bansao",)


def test_a_stale_template_is_rebuilt_by_the_migrations():
    schemas.ensure_template()
    with schema_context(schemas.TEMPLATE_SCHEMA), connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'dossiers' AND name = '0002_timeline_append_only'")
    assert schemas.ensure_template() is True
    with schema_context(schemas.TEMPLATE_SCHEMA):
        assert schemas.schema_is_current()
    assert schemas.ensure_template() is False


def test_migrate_skips_a_current_province_without_running_django_migrate(danang):
    with mock.patch.object(DjangoMigrateCommand, "handle", side_effect=AssertionError("ran migrate")):
        call_command("migrate_schemas", tenant=True, schema_name="danang", interactive=False, verbosity=0)


def test_migrate_runs_in_a_province_whose_roles_drifted(danang):
    role = ROLES[0]
    with schema_context("danang"):
        group = Group.objects.get(name=role.group_name)
        removed = group.permissions.first()
        group.permissions.remove(removed)
        extra = Permission.objects.exclude(group=group).first()
        group.permissions.add(extra)
        assert not schemas.schema_is_current()
    call_command("migrate_schemas", tenant=True, schema_name="danang", interactive=False, verbosity=0)
    with schema_context("danang"):
        assert schemas.schema_is_current()
        assert removed in group.permissions.all() and extra not in group.permissions.all()


def test_migrate_runs_in_a_province_missing_a_migration(danang):
    with schema_context("danang"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'notifications'")
        assert not schemas.schema_is_current()
    with mock.patch.object(DjangoMigrateCommand, "handle", autospec=True, return_value=None) as migrate:
        call_command("migrate_schemas", tenant=True, schema_name="danang", interactive=False, verbosity=0)
    assert migrate.called


def test_migrate_schemas_hands_only_the_schemas_with_work_to_the_executor(danang, camau):
    from django_tenants.migration_executors.standard import StandardExecutor

    with schema_context("camau"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'broadcasts'")
    with mock.patch.object(StandardExecutor, "run_migrations", autospec=True) as run:
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
    assert [call.kwargs["tenants"] for call in run.call_args_list] == [["camau"]]


def test_beats_fan_out_reads_the_provinces_once_whatever_their_number(danang, camau, settings):
    import redis
    from django.db import connections
    from django.test.utils import CaptureQueriesContext
    from tenant_schemas_celery.scheduler import TenantAwareScheduler

    from egov.celery import app

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    scheduler = TenantAwareScheduler(app=app, lazy=True)
    scheduler.merge_inplace({"reaper": settings.CELERY_BEAT_SCHEDULE["notifications-reaper"]})
    entry = scheduler.schedule["reaper@__all_tenants_only__"]

    def tick():
        broker.delete("default")
        with CaptureQueriesContext(connections["default"]) as queries, app.producer_or_acquire() as producer:
            scheduler.apply_entry(entry, producer=producer)
        # django-tenants' `SET search_path` apart: sent once per province switch (TENANT_LIMIT_SET_CALLS),
        # so whether it comes depends on what ran before, not on the number of provinces.
        statements = [q for q in queries.captured_queries if not q["sql"].startswith("SET search_path")]
        return len(statements), broker.llen("default")

    queries_for_two, sent = tick()
    assert sent == 2
    create_province(SPEC)
    assert tick() == (queries_for_two, 3)  # one message more, no query more
    broker.delete("default")
