"""django-tenants' PostgreSQL backend, keeping a search path the server already has across requests.

django-tenants sends `SET search_path` again after every `set_tenant()`, and its middleware calls it
twice per request (public, then the request's province): a round trip (or, for the cold status page,
a pipelined statement) per request even when the connection, kept between requests (CONN_MAX_AGE),
is already on that province's path.

Here the wrapper remembers the path the server last confirmed on this very connection. When the
path a cursor needs is that one, nothing is sent. It forgets it whenever the server may have
dropped or undone it: on close and on any new connection (the remembered path is tied to the
connection object), on ROLLBACK and ROLLBACK TO SAVEPOINT (a `SET` inside an aborted transaction
or after the savepoint is undone), and when a `SET` failed. Product code never sets the search path
itself (`SET LOCAL` in provinces/schemas.py ends with its transaction), and a pooler in front must be
session-level (docs/scaling.md), so no one else changes it under the wrapper.

With TENANT_LIMIT_SET_CALLS off (a `SET` before every statement) the wrapper behaves as
django-tenants' own.
"""

from django.utils.asyncio import async_unsafe
from django_tenants.postgresql_backend import base
from django_tenants.utils import get_limit_set_calls


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        self._path_on_server = None  # (the raw connection, the search path it confirmed)
        super().__init__(*args, **kwargs)

    def search_path_is_set(self) -> bool:
        """Whether the next statement needs no `SET search_path` (the connection already has the
        current province's path); if so the wrapper takes it as set."""
        if self.search_path_set_schemas:
            return get_limit_set_calls()
        kept = self._path_on_server
        if (
            kept is None
            or kept[0] is not self.connection
            or not get_limit_set_calls()
            or kept[1] != self._get_cursor_search_paths()
        ):
            return False
        self.search_path_set_schemas = kept[1]
        return True

    def _handle_search_path(self, cursor=None):
        if self._setting_search_path:  # re-entered while getting the cursor for the SET
            return
        if self.search_path_is_set():
            return
        super()._handle_search_path(cursor)
        confirmed = self.search_path_set_schemas
        self._path_on_server = (self.connection, list(confirmed)) if confirmed else None

    def close(self):
        self._path_on_server = None
        super().close()

    @async_unsafe
    def rollback(self):
        try:
            super().rollback()
        finally:
            self._path_on_server = None

    @async_unsafe
    def savepoint_rollback(self, sid):
        try:
            super().savepoint_rollback(sid)
        finally:
            self._path_on_server = None
