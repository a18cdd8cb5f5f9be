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

import re

from django.db import DEFAULT_DB_ALIAS, connections

from egov.compiled import prepared_statements

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
        with prepared_statements(connection) as cursor:  # parsed and planned once per connection
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


_many_statements: dict = {}
_MODIFIERS = re.compile(r"\(.*?\)")


def _many_statement(model, connection, fields):
    key = (model, connection.vendor, tuple(f.column for f in fields))
    sql = _many_statements.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        # Arrays of the columns' types without their modifiers: an explicit cast to varchar(n) would cut a
        # longer value short, silently; the insert's own (assignment) cast refuses it, as bulk_create's does.
        arrays = ", ".join(f"%s::{_MODIFIERS.sub('', f.db_type(connection))}[]" for f in fields)
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
        _many_statements[key] = sql
    return sql


def insert_rows(model, objs):
    """`model.objects.bulk_create(objs)` as one statement of the same text for any number of rows (one
    array per column, unnested), parsed and planned once per connection; Django compiles a new
    statement for each number of rows. Unlike bulk_create it does not set the objects' primary keys:
    for rows nobody reads back in the same breath (an intake's papers). What the plain path does not
    cover (as `CompiledInsert`, and a column without a plain database type) goes to bulk_create."""
    objs = list(objs)
    if not objs:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    opts = model._meta
    fields = [f for f in opts.local_concrete_fields if f is not opts.auto_field and not f.generated]
    if opts.parents or any(hasattr(f, "get_placeholder") or not f.db_type(connection) for f in fields):
        model._base_manager.bulk_create(objs)
        return
    columns = []
    for field in fields:
        column = []
        for obj in objs:
            value = field.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):
                model._base_manager.bulk_create(objs)
                return
            column.append(field.get_db_prep_save(value, connection=connection))
        columns.append(column)
    with prepared_statements(connection) as cursor:
        cursor.execute(_many_statement(model, connection, fields), columns)
