"""What a web process's database connection does, seen from outside (a development tool).

``own_connection(province)``  a connection of the web process's kind (autocommit, persistent, health
                              checks on) in place of Django's default one, outside the test's transaction
``new_request(conn, province)``  what Django and the tenant middleware do to it at each request's start
``wire(conn, action)``        the protocol messages `action` exchanges (libpq's trace)
``round_trips(messages)``     how many times the client waited for the server
``record_sent(monkeypatch)``  every statement this process sends, through any cursor
``RedisConversation``         what this process sends Redis (each command's name) and how often it
                              waits for an answer, read off the bytes on the wire
"""

import tempfile
import threading
from contextlib import contextmanager

import psycopg
import redis
from django.db import connection, connections
from django.db.utils import ConnectionHandler


@contextmanager
def own_connection(province):
    """It sees only committed rows (the provinces); put back before the test's transaction is rolled back."""
    fresh = ConnectionHandler().create_connection("default")
    assert fresh.settings_dict["CONN_HEALTH_CHECKS"], "the production setting these tests are about"
    test_connection = connections["default"]
    connections["default"] = fresh
    try:
        assert connection.connection is None and not connection.in_atomic_block
        connection.set_tenant(province)
        yield fresh
    finally:
        connections["default"] = test_connection
        fresh.close()


def new_request(conn, province):
    """What Django and the tenant middleware do to the connection at the start of every request."""
    conn.close_if_unusable_or_obsolete()  # a persistent connection: the health check is due again
    conn.set_schema_to_public()
    conn.set_tenant(province)


def wire(conn, action):
    """The protocol messages `action` exchanges on `conn`, as libpq traces them: [(direction, message)]."""
    with tempfile.TemporaryFile("w+") as trace:
        conn.connection.pgconn.trace(trace.fileno())
        conn.connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            result = action()
        finally:
            conn.connection.pgconn.untrace()
        trace.seek(0)
        messages = [line.split("\t") for line in trace.read().splitlines() if line.strip()]
    return result, [(m[0], " ".join(m[2:])) for m in messages]


def round_trips(messages):
    """How many times the client waited for the server: each run of messages it sent, then answers."""
    directions = [d for d, _ in messages]
    return sum(1 for a, b in zip(directions, directions[1:], strict=False) if a == "F" and b == "B")


def record_sent(monkeypatch):
    """A list that receives every statement this process sends to PostgreSQL from now on."""
    statements = []
    real = psycopg.Cursor.execute

    def recording(self, query, *args, **kwargs):
        statements.append(query if isinstance(query, str) else repr(query))
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", recording)
    return statements


def _command_names(packed: bytes) -> list[str]:
    """The names of the commands in bytes written to Redis (RESP arrays of bulk strings), read by
    their lengths (a value may hold anything, even what looks like a command)."""
    names, at = [], 0
    while at < len(packed):
        assert packed[at : at + 1] == b"*", packed[at : at + 20]
        end = packed.index(b"\r\n", at)
        count, at = int(packed[at + 1 : end]), end + 2
        for index in range(count):
            end = packed.index(b"\r\n", at)
            length = int(packed[at + 1 : end])
            if index == 0:
                names.append(packed[end + 2 : end + 2 + length].decode().upper())
            at = end + 2 + length + 2
    return names


class RedisConversation:
    """Every command this thread writes to Redis (``sent``: the names, in order) and every answer it
    waits for (``waits``), through any client, recorded at the connection's socket calls. Other
    threads (the local cache's eviction listener) are left out."""

    def __init__(self, monkeypatch):
        self.sent, self.waits = [], 0
        mine = threading.get_ident()
        real_send, real_read = redis.Connection.send_packed_command, redis.Connection.read_response

        def send(conn, command, *args, **kwargs):
            if threading.get_ident() != mine:
                return real_send(conn, command, *args, **kwargs)
            chunks = [command] if isinstance(command, bytes | str) else command
            self.sent += _command_names(b"".join(c.encode() if isinstance(c, str) else bytes(c) for c in chunks))
            return real_send(conn, command, *args, **kwargs)

        def read(conn, *args, **kwargs):
            if threading.get_ident() == mine:
                self.waits += 1
            return real_read(conn, *args, **kwargs)

        monkeypatch.setattr(redis.Connection, "send_packed_command", send)
        monkeypatch.setattr(redis.Connection, "read_response", read)

    def clear(self):
        self.sent, self.waits = [], 0
