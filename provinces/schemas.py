"""Province schemas at scale: a new province is a copy of a template schema, and a no-op migration
of a schema costs one query.

Running every tenant migration for a new province takes seconds (Django renders the project state
migration by migration), and `migrate_schemas` with nothing to apply still loads the graph, runs the
system checks and the post-migrate signals in every schema. With a thousand provinces both matter:

- `TEMPLATE_SCHEMA` is a schema built by the real migrations (never a province: no row, no domain,
  no requests). A new province's schema is a copy of it, made by one SQL script read from the
  catalogue once per process (tables, their rows, constraints and indexes under their own names,
  triggers and their functions, sequences where the template's stand). django-tenants'
  `clone_schema` was tried first: 2-4 s a copy here, and it renames unique constraints and turns
  integer sequences into bigint ones, which the comparison test caught. The template is rebuilt by
  the migrations whenever the code has a migration it lacks or the role groups differ from
  `offices.roles.ROLES`, so a copy is always what the migrations would make today
  (`provinces/tests/test_many_tenants.py` compares a copy with a migrated schema).
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
        if ensure_template(verbosity=verbosity):
            _copy_script.cache_clear()
        copy_template(schema_name)
    connection.set_schema_to_public()


NEW = "__new_province_schema__"  # stands for the new schema's name in the copy script


def copy_template(schema_name):
    """Run the copy script for `schema_name` (one round trip)."""
    script = _copy_script(frozenset(disk_migrations()))
    with connection.cursor() as cursor:
        cursor.execute(script.replace(NEW, schema_name))


@functools.cache
def _copy_script(_version) -> str:
    """The SQL that makes a copy of the template, read from the catalogue once per process.

    In order: the schema; each table's columns, defaults and identities (LIKE); the template's rows
    (what the migrations and post-migrate signals wrote); the constraints under their own names
    (keys, uniques, checks, then foreign keys, all within the new schema); the other indexes; the
    functions and the triggers on them; the sequences where the template's stand.
    """
    tpl = f'"{TEMPLATE_SCHEMA}"'
    new = f'"{NEW}"'
    parts = [f"CREATE SCHEMA {new}", f"SET LOCAL search_path = {new}"]
    with connection.cursor() as cursor:
        # Definitions printed with the template on the search path name its objects unqualified.
        cursor.execute(f"SET LOCAL search_path = {tpl}")
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.oid",
            [TEMPLATE_SCHEMA],
        )
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            parts.append(
                f'CREATE TABLE {new}."{table}" (LIKE {tpl}."{table}" INCLUDING DEFAULTS INCLUDING IDENTITY '
                "INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)"
            )
        for table in tables:
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM {tpl}."{table}")')  # noqa: S608 -- catalogue names
            if cursor.fetchone()[0]:
                parts.append(f'INSERT INTO {new}."{table}" OVERRIDING SYSTEM VALUE SELECT * FROM {tpl}."{table}"')  # noqa: S608
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype = 'f' "
            "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = %s AND c.contype IN ('p', 'u', 'c', 'x', 'f') AND c.conrelid <> 0 "
            "ORDER BY c.contype = 'f', c.oid",
            [TEMPLATE_SCHEMA],
        )
        for table, name, definition, _is_fk in cursor.fetchall():
            parts.append(f'ALTER TABLE {new}.{table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
            "ORDER BY c.oid",
            [TEMPLATE_SCHEMA],
        )
        for (definition,) in cursor.fetchall():
            parts.append(definition.replace(f" ON {TEMPLATE_SCHEMA}.", f" ON {new}."))
        cursor.execute(
            "SELECT pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = %s AND p.prokind = 'f' ORDER BY p.oid",
            [TEMPLATE_SCHEMA],
        )
        for (definition,) in cursor.fetchall():
            parts.append(definition.replace(f"FUNCTION {TEMPLATE_SCHEMA}.", f"FUNCTION {new}.", 1))
        cursor.execute(
            "SELECT pg_get_triggerdef(t.oid), t.tgenabled, c.relname, t.tgname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND NOT t.tgisinternal ORDER BY t.oid",
            [TEMPLATE_SCHEMA],
        )
        for definition, enabled, table, name in cursor.fetchall():
            parts.append(definition.replace(f" ON {TEMPLATE_SCHEMA}.", f" ON {new}.", 1))
            if enabled == "D":
                parts.append(f'ALTER TABLE {new}."{table}" DISABLE TRIGGER "{name}"')
        cursor.execute(
            "SELECT sequencename, data_type::text, last_value FROM pg_sequences WHERE schemaname = %s",
            [TEMPLATE_SCHEMA],
        )
        for sequence, data_type, value in cursor.fetchall():
            if data_type != "bigint":  # an identity made by LIKE is bigint whatever the column
                parts.append(f'ALTER SEQUENCE {new}."{sequence}" AS {data_type}')
            if value is not None:
                parts.append(f"SELECT setval('{new}.\"{sequence}\"', {int(value)}, true)")
        cursor.execute("SET LOCAL search_path = public")
    parts.append("SET LOCAL search_path = public")
    return ";\n".join(parts) + ";"


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


_NOT_PLAIN = ("app_label", "migration_name", "plan", "prune", "check_unapplied", "run_syncdb", "fake_initial")


def get_executor(codename=None):
    """django-tenants' executor (GET_EXECUTOR_FUNCTION) that first drops the current schemas.

    One connection in the parent asks each province schema for its applied migrations and roles
    (three small queries); only the schemas with something to do go to the executor, which would
    otherwise open a connection and start a migrate command in every schema.
    """
    from django_tenants.migration_executors import get_executor as tenants_executor

    base = tenants_executor(codename)

    class SkipCurrentSchemas(base):
        def run_migrations(self, tenants=None):
            tenants = list(tenants or [])
            public = get_public_schema_name()
            if any(self.options.get(flag) for flag in _NOT_PLAIN) or tenants == [public]:
                return super().run_migrations(tenants=tenants)
            from .models import Province

            todo = []
            # A merged province's schema is frozen until a person drops it (provinces/merging.py).
            frozen = set(
                Province.objects.filter(merged_into__isnull=False, schema_name__in=tenants).values_list(
                    "schema_name", flat=True
                )
            )
            for schema_name in tenants:
                if schema_name in frozen:
                    continue
                if schema_name == public:
                    todo.append(schema_name)
                    continue
                connection.set_schema(schema_name, include_public=False)
                if not schema_is_current():
                    todo.append(schema_name)
            connection.set_schema_to_public()
            if int(self.options.get("verbosity", 1)) >= 1:
                skipped = len(tenants) - len(todo) - len(frozen)
                print(f"{skipped} of {len(tenants)} schemas up to date (migrations and role groups): skipped")
                if frozen:
                    print(f"{len(frozen)} merged province schemas (read-only): skipped")
            if todo:
                super().run_migrations(tenants=todo)

    return SkipCurrentSchemas
