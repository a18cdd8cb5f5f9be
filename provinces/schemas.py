"""Province schemas at scale: a new province is a copy of a template schema, and a no-op migration
of a schema costs one query.

Running every tenant migration for a new province takes seconds (Django renders the project state
migration by migration), and `migrate_schemas` with nothing to apply still loads the graph, runs the
system checks and the post-migrate signals in every schema. With a thousand provinces both matter:

- `TEMPLATE_SCHEMA` is a schema built by the real migrations (never a province: no row, no domain,
  no requests). A new province's schema is a copy of it (django-tenants' `clone_schema`: tables,
  indexes, constraints, sequences, triggers and their functions, and the rows the migrations and
  the post-migrate signals wrote). The template is rebuilt by the migrations whenever the code has
  a migration it lacks or the role groups differ from `offices.roles.ROLES`, so a copy is always
  what the migrations would make today (`provinces/tests/test_many_tenants.py` compares the two).
- `MigrateCommand` is the migrate command django-tenants runs in each schema
  (`TENANT_BASE_MIGRATE_COMMAND`): in a province schema where every migration on disk is recorded
  and the role groups match, it returns after one query for the applied migrations and one for the
  roles; anything else runs Django's migrate unchanged.
"""

import functools

from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.clone import CloneSchema
from django_tenants.utils import get_public_schema_name, schema_exists

# Province slugs are [a-z][a-z0-9]+: a name with underscores can never be a province's.
TEMPLATE_SCHEMA = "_province_template"
# One transaction-scoped advisory lock serialises template builds and copies (an arbitrary key).
_LOCK_KEY = 0x70726F76


@functools.cache
def disk_migrations() -> frozenset:
    """Every migration of the code, as (app label, name), read from disk once per process."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def _wanted_roles() -> set:
    from offices.roles import ROLES

    return {(role.group_name, perm) for role in ROLES for perm in role.permissions} | {
        (role.group_name, None) for role in ROLES
    }


def _roles_sql():
    return (
        "SELECT g.name, ct.app_label || '.' || p.codename FROM auth_group g "
        "LEFT JOIN auth_group_permissions gp ON gp.group_id = g.id "
        "LEFT JOIN auth_permission p ON p.id = gp.permission_id "
        "LEFT JOIN django_content_type ct ON ct.id = p.content_type_id "
        "WHERE g.name = ANY(%s)"
    )


def schema_is_current() -> bool:
    """In the connection's current schema: every migration applied and the role groups as coded."""
    from offices.roles import ROLES

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'django_migrations'"
        )
        if cursor.fetchone() is None:
            return False
        cursor.execute("SELECT app, name FROM django_migrations")
        if not disk_migrations() <= set(cursor.fetchall()):
            return False
        cursor.execute(_roles_sql(), [[role.group_name for role in ROLES]])
        rows = cursor.fetchall()
    have = {(name, perm) for name, perm in rows if perm} | {(name, None) for name, _perm in rows}
    return have == _wanted_roles()


def _in_schema(schema_name, fn):
    previous = connection.tenant if hasattr(connection, "tenant") else None
    connection.set_schema(schema_name)
    try:
        return fn()
    finally:
        if previous is not None and previous.schema_name != schema_name:
            connection.set_tenant(previous)
        else:
            connection.set_schema_to_public()


def ensure_template(verbosity=0) -> bool:
    """Build the template by the migrations unless it is current. Returns True if it was (re)built."""
    from django.core.management import call_command

    if schema_exists(TEMPLATE_SCHEMA) and _in_schema(TEMPLATE_SCHEMA, schema_is_current):
        return False
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{TEMPLATE_SCHEMA}" CASCADE')
        cursor.execute(f'CREATE SCHEMA "{TEMPLATE_SCHEMA}"')
    call_command("migrate_schemas", tenant=True, schema_name=TEMPLATE_SCHEMA, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()
    return True


def create_schema_from_template(schema_name, verbosity=0):
    """Create `schema_name` as a copy of the (current) template, in the caller's transaction."""
    with transaction.atomic():
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        ensure_template(verbosity=verbosity)
        CloneSchema().clone_schema(TEMPLATE_SCHEMA, schema_name, "DATA")
        _align_with_template(schema_name)
    connection.set_schema_to_public()


def _align_with_template(schema_name):
    """Give the copy what clone_schema does not keep: constraint names and sequence types.

    clone_schema re-creates unique constraints under PostgreSQL's default names (a later migration
    removing `dossier_counter_unique_day` would not find it) and makes every sequence bigint.
    """
    with connection.cursor() as cursor:
        constraints = (
            "SELECT c.conrelid::regclass::text, c.contype, pg_get_constraintdef(c.oid), c.conname "
            "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %s"
        )
        cursor.execute("SET LOCAL search_path = pg_catalog")

        def by_definition(schema):
            cursor.execute(constraints, [schema])
            return {
                (table.split(".", 1)[-1].strip('"'), kind, definition.replace(f"{schema}.", "")): name
                for table, kind, definition, name in cursor.fetchall()
            }

        wanted = by_definition(TEMPLATE_SCHEMA)
        for (table, kind, definition), name in by_definition(schema_name).items():
            target = wanted.get((table, kind, definition))
            if target and target != name:
                cursor.execute(f'ALTER TABLE "{schema_name}"."{table}" RENAME CONSTRAINT "{name}" TO "{target}"')
        sequences = "SELECT sequencename, data_type::text FROM pg_sequences WHERE schemaname = %s"
        cursor.execute(sequences, [TEMPLATE_SCHEMA])
        types = dict(cursor.fetchall())
        cursor.execute(sequences, [schema_name])
        for name, data_type in cursor.fetchall():
            if types.get(name) and types[name] != data_type:
                cursor.execute(f'ALTER SEQUENCE "{schema_name}"."{name}" AS {types[name]}')
        cursor.execute("SET LOCAL search_path = public")


def template_enabled() -> bool:
    return getattr(settings, "PROVINCE_SCHEMA_FROM_TEMPLATE", False)


class MigrateCommand(DjangoMigrateCommand):
    """Django's migrate, which returns at once in a province schema that has nothing to do."""

    def handle(self, *args, **options):
        plain = not any(
            options.get(flag)
            for flag in (
                "app_label",
                "migration_name",
                "plan",
                "prune",
                "check_unapplied",
                "run_syncdb",
                "fake_initial",
            )
        )
        if plain and connection.schema_name != get_public_schema_name() and schema_is_current():
            if options.get("verbosity", 1) >= 1:
                self.stdout.write("  Nothing to migrate: every migration applied, role groups current.")
            return
        return super().handle(*args, **options)
