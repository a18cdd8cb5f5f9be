"""A SELECT of one row compiled by the ORM once per thread, then run with each new value.

Every officer request reads its user: the API token with its user, officer, department and
permission names (egov/api.py), or the admin session's user with its permission names
(egov/auth_backends.py). The ORM compiles that query anew each time (the joins of `select_related`,
the annotation, every column quoted), which cost more CPU than the database spent answering it.

`CompiledSelect` asks the ORM for the query once, with a placeholder value, and keeps what the ORM
made of it: the SQL, where the value goes in its parameters, and the ORM's own machinery to turn a
row into instances (the same `from_db`, converters and `select_related` populators `QuerySet`
iteration uses). Each call then only executes the SQL with its value, as a statement PostgreSQL
prepared once per connection (`prepared_cursor`): its parsing and planning are saved too. The SQL
names no schema, so django-tenants' search path chooses the province as for any query; it is kept
per thread because a compiler belongs to its thread's connection.
"""

import threading
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorDebugWrapper
from django.db.models.query import get_related_populators

_NEVER_BY_ITSELF = 2**31 - 1  # psycopg prepares a statement by itself after this many uses: never


class _PreparedCursor(psycopg.Cursor):
    """Every statement prepared on its connection, the first time (psycopg keeps the names per connection)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def prepared_cursor(connection):
    """A cursor on `connection` (Django's, connected) whose statements are bound on the server and
    prepared once per connection: PostgreSQL's parsing and planning are saved on every later run,
    and redone by PostgreSQL itself when search_path has changed, so one prepared statement serves
    every province. Wrapped as Django wraps its cursors: logged as any query, errors as Django's.

    Django turns psycopg's preparing off; its own (client-side) cursors never prepare anyway, so
    this lets only these cursors do it. A transaction-mode pooler would break prepared statements,
    but tenants need a session-mode one already (docs/scaling.md)."""
    raw_connection = connection.connection
    if raw_connection.prepare_threshold is None:
        raw_connection.prepare_threshold = _NEVER_BY_ITSELF
    connection.validate_thread_sharing()
    raw = _PreparedCursor(raw_connection)
    return _PreparedDebugWrapper(raw, connection) if connection.queries_logged else connection.make_cursor(raw)


def bare_prepared_cursor(connection):
    """`prepared_cursor` without Django's cursor wrapper, where nothing asks for what it adds: for one
    read on the citizens' hottest path (the cold lookup), whose caller turns errors into Django's
    (`wrap_database_errors`). The wrapper's own work per statement (its execute wrappers, the debug
    log, the broken-transaction and thread checks) cost about a fifth of the statement's CPU in the
    web process. So where any of it matters — an execute wrapper installed (tests, tools), queries
    being logged (DEBUG, `CaptureQueriesContext`), inside a transaction — this is `prepared_cursor`."""
    if connection.execute_wrappers or connection.queries_logged or connection.in_atomic_block:
        return prepared_cursor(connection)
    raw_connection = connection.connection
    if raw_connection.prepare_threshold is None:
        raw_connection.prepare_threshold = _NEVER_BY_ITSELF
    return _PreparedCursor(raw_connection)


@contextmanager
def prepared_statements(connection):
    """`prepared_cursor` on a statement path of the request's own: Django's first steps as for any of
    its cursors (connecting, the health check, django-tenants' `SET search_path` when the province
    changed), then a prepared cursor with errors turned into Django's. For statements run on every
    intake or lookup, whose parsing and planning PostgreSQL would otherwise repeat each time."""
    connection.cursor().close()
    with connection.wrap_database_errors, prepared_cursor(connection) as cursor:
        yield cursor


class _PreparedDebugWrapper(CursorDebugWrapper):
    def execute(self, sql, params=None):
        # psycopg keeps no text of a prepared statement's run: logged with its values bound here, as
        # Django logs its client-side cursors' statements.
        with self.debug_sql(self.db.ops.compose_sql(sql, params) if params else sql):
            return super(CursorDebugWrapper, self).execute(sql, params)


@dataclass(slots=True)
class _Plan:
    connection: object
    compiler: object
    sql: str
    params: list
    position: int  # of the value in `params`
    model: type
    start: int  # the model's columns in a row: row[start:end]
    end: int
    init_list: list
    populators: list  # select_related's
    annotations: list  # (name, position in a row)
    converters: dict


class CompiledSelect:
    """`build(value)` → a queryset of at most one row, filtered on `value` (a parameter of its SQL).
    `first(value)` runs it: the instance `build(value).first()` would give (without its ORDER BY), or None.

    `placeholder` must be a value of the filtered field's type that appears nowhere else in the query's
    parameters; the query must be plain (no `extra()`, no prefetching, no deferred fields)."""

    def __init__(self, build, placeholder):
        self.build = build
        self.placeholder = placeholder
        self._local = threading.local()

    def _plan(self, using):
        connection = connections[using]
        plan = getattr(self._local, using, None)
        if plan is not None and plan.connection is connection:
            return plan
        queryset = self.build(self.placeholder)[:1]
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        positions = [i for i, value in enumerate(params) if value == self.placeholder]
        if len(positions) != 1 or compiler.has_extra_select or queryset._prefetch_related_lookups:
            raise ValueError("CompiledSelect needs a plain query with its value once among its parameters")
        klass_info, select = compiler.klass_info, compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        plan = _Plan(
            connection=connection,
            compiler=compiler,
            sql=sql,
            params=list(params),
            position=positions[0],
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=[column[0].target.attname for column in select[start:end]],
            populators=get_related_populators(klass_info, select, using),
            annotations=list(compiler.annotation_col_map.items()),
            converters=compiler.get_converters([column[0] for column in select[: compiler.col_count]]),
        )
        setattr(self._local, using, plan)
        return plan

    def first(self, value, using=DEFAULT_DB_ALIAS):
        plan = self._plan(using)
        params = list(plan.params)
        params[plan.position] = value
        with prepared_statements(plan.connection) as cursor:
            cursor.execute(plan.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if plan.converters:
            (row,) = plan.compiler.apply_converters([row], plan.converters)
        instance = plan.model.from_db(using, plan.init_list, row[plan.start : plan.end])
        for populator in plan.populators:
            populator.populate(row, instance)
        for name, position in plan.annotations:
            setattr(instance, name, row[position])
        return instance
