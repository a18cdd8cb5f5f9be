"""The shape of a schema as PostgreSQL's catalogue describes it, with the schema's own name blanked
out: two schemas with equal shapes are interchangeable (tables, columns, indexes, constraints,
triggers and their functions, sequences and where they stand, and the rows the migrations wrote)."""

from django.db import connection

SELF = "<schema>"
# Rows written by the migrations and the post-migrate signals, compared whole (ids included: the
# role groups' permissions refer to them). Other tables are compared by their row count.
DATA_TABLES = {
    "django_content_type": "SELECT id, app_label, model FROM {t} ORDER BY id",
    "auth_permission": "SELECT id, content_type_id, codename, name FROM {t} ORDER BY id",
    "auth_group": "SELECT id, name FROM {t} ORDER BY id",
    "auth_group_permissions": "SELECT group_id, permission_id FROM {t} ORDER BY 1, 2",
    "django_migrations": "SELECT app, name FROM {t} ORDER BY app, name",
}


def shape(schema):
    def blank(value):
        return value.replace(f'"{schema}".', f"{SELF}.").replace(f"{schema}.", f"{SELF}.") if value else value

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL search_path = pg_catalog")  # every name in the definitions qualified
        cursor.execute(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s ORDER BY 1",
            [schema],
        )
        relations = cursor.fetchall()
        cursor.execute(
            "SELECT table_name, column_name, rank() OVER (PARTITION BY table_name ORDER BY ordinal_position), "
            "data_type, is_nullable, column_default, "
            "is_identity, identity_generation, character_maximum_length, numeric_precision, collation_name "
            "FROM information_schema.columns WHERE table_schema = %s ORDER BY 1, 3",  # order, not attnum
            [schema],
        )
        columns = [tuple(blank(v) if isinstance(v, str) else v for v in row) for row in cursor.fetchall()]
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s ORDER BY 1", [schema])
        indexes = [(name, blank(d)) for name, d in cursor.fetchall()]
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid), "
            "c.condeferrable, c.condeferred, fn.nspname "
            "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "LEFT JOIN pg_class f ON f.oid = c.confrelid LEFT JOIN pg_namespace fn ON fn.oid = f.relnamespace "
            "WHERE n.nspname = %s ORDER BY 1, 2",
            [schema],
        )
        constraints = [
            (blank(t), name, kind, blank(d), deferrable, deferred, SELF if target == schema else target)
            for t, name, kind, d, deferrable, deferred, target in cursor.fetchall()
        ]
        cursor.execute(
            "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, pn.nspname, p.proname "
            "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace "
            "WHERE n.nspname = %s AND NOT t.tgisinternal ORDER BY 1, 2",
            [schema],
        )
        triggers = [
            (table, name, blank(d), enabled, SELF if fschema == schema else fschema, fn)
            for table, name, d, enabled, fschema, fn in cursor.fetchall()
        ]
        cursor.execute(
            "SELECT p.proname, p.prosrc, pg_get_function_result(p.oid), p.prokind FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s ORDER BY 1",
            [schema],
        )
        functions = cursor.fetchall()
        cursor.execute(
            "SELECT sequencename, data_type::text, start_value, min_value, max_value, increment_by, cycle, "
            "last_value FROM pg_sequences WHERE schemaname = %s ORDER BY 1",
            [schema],
        )
        sequences = cursor.fetchall()
        cursor.execute(
            "SELECT s.relname, d.refobjid::regclass::text, a.attname FROM pg_depend d "
            "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN pg_namespace n ON n.oid = s.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
            "WHERE n.nspname = %s AND d.deptype IN ('a', 'i') ORDER BY 1",
            [schema],
        )
        owners = [(s, blank(t), a) for s, t, a in cursor.fetchall()]
        counts = {}
        data = {}
        for name, kind in relations:
            if kind not in ("r", "p"):
                continue
            table = f'"{schema}"."{name}"'
            if name in DATA_TABLES:
                cursor.execute(DATA_TABLES[name].format(t=table))
                data[name] = cursor.fetchall()
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 -- catalogue names
            counts[name] = cursor.fetchone()[0]
    return {
        "relations": relations,
        "columns": columns,
        "indexes": indexes,
        "constraints": constraints,
        "triggers": triggers,
        "functions": functions,
        "sequences": sequences,
        "sequence owners": owners,
        "row counts": counts,
        "rows": data,
    }
