"""One new row inserted with its statement built once per model, not compiled by the ORM on every save.

An intake inserts a dossier, its event and its outbox row; Django compiles each INSERT anew (quoting
every column, walking every field through the SQL compiler), a noticeable share of an intake's CPU.
`CompiledInsert` keeps everything of `Model.save()` (its checks, the save signals, `auto_now_add`,
the primary key set from RETURNING) and replaces only that compilation: the statement for a model
and its set of columns is written once, and each save passes its values, prepared as Django's
insert prepares them (each field's `pre_save(add=True)` and `get_db_prep_save`). Whatever that plain
path does not cover (an expression or a database default as a value, a field with its own
placeholder, raw saves, another manager or database) goes through Django's own insert.
"""

from django.db import DEFAULT_DB_ALIAS, connections

_statements: dict = {}


def _statement(model, connection, fields, returning_fields):
    key = (model, connection.vendor, tuple(f.column for f in fields), tuple(f.column for f in returning_fields))
    sql = _statements.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(f.column) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names from the model
        if returning_fields:
            sql += " RETURNING " + ", ".join(f"{table}.{quote(f.column)}" for f in returning_fields)
        _statements[key] = sql
    return sql


class CompiledInsert:
    """A model mixin: `save()` of a new row through a statement built once (see the module)."""

    def _do_insert(self, manager, using, fields, returning_fields, raw):
        model = type(self)
        if raw or using != DEFAULT_DB_ALIAS or manager is not model._base_manager or not fields:
            return super()._do_insert(manager, using, fields, returning_fields, raw)
        connection = connections[using]
        values = []
        for field in fields:
            if hasattr(field, "get_placeholder"):
                return super()._do_insert(manager, using, fields, returning_fields, raw)
            value = field.pre_save(self, True)
            if hasattr(value, "resolve_expression"):  # F(), Now(), a database default: the ORM compiles it
                return super()._do_insert(manager, using, fields, returning_fields, raw)
            values.append(field.get_db_prep_save(value, connection=connection))
        with connection.cursor() as cursor:
            cursor.execute(_statement(model, connection, fields, returning_fields), values)
            if not returning_fields:
                return []
            row = cursor.fetchone()
        returned = []
        for field, value in zip(returning_fields, row, strict=True):  # converted as the ORM's insert does
            column = field.get_col(model._meta.db_table)
            for convert in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
                value = convert(value, column, connection)
            returned.append(value)
        return [tuple(returned)]
