"""A Redis client per thread, and keys that carry the province's schema.

Django's RedisCache builds a new client object on every call (~0.2 ms each); hot paths such as
the QR status page use this client and store plain bytes instead.

Each thread keeps its own client holding one connection (`single_connection_client`): a command
goes straight to it, without taking a connection from the shared pool and giving it back, which was
a third of redis-py's CPU for a command. A web thread, a worker process and the tenant cache's
listener each hold one connection, as many as a shared pool opened under the same load. A forked
child (Celery's pool) starts with no client: it never writes on its parent's socket.
"""

import os
import threading

import redis
from django.conf import settings
from django.db import connection

_local = threading.local()


def _forget_after_fork():
    global _local
    _local = threading.local()


os.register_at_fork(after_in_child=_forget_after_fork)


def _new_client(url):
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, single_connection_client=True)


def client() -> redis.Redis:
    """This thread's client for REDIS_URL; not to be handed to another thread."""
    url = settings.REDIS_URL
    try:
        clients = _local.clients
    except AttributeError:
        clients = _local.clients = {}
    kept = clients.get(url)
    if kept is None:
        kept = clients[url] = _new_client(url)
    return kept


def tenant_key(*parts) -> str:
    """A key in the current province's namespace: "<schema>:<part>:<part>…"."""
    return ":".join([connection.schema_name, *map(str, parts)])


def ask(*command):
    """`command`'s answer as Redis sends it (bytes, lists, None: no response callback), on this thread's
    connection: written, then its answer read, and nothing else. For reads on the citizens' hot path
    (the lookup's MGET), where redis-py's per-command machinery around the same two steps (its lock,
    retry closure, timing records and response callbacks) cost as much CPU as they do: a 4-key MGET
    took 22–28 µs of CPU through `mget()`, 13–14 µs here (in-process, on this project's machine).

    A connection found closed (Redis restarted, an idle connection cut) is reopened once and the
    command sent again, so only for commands that may run twice, such as reads. An error answer is
    raised as redis-py raises it, with the conversation still in step.
    """
    conn = client().connection  # single_connection_client: the thread's one connection
    packed = conn.pack_command(*command)

    def exchange():
        conn.send_packed_command(packed)
        return conn.read_response()

    return _once_more_if_closed(conn, exchange)


def _once_more_if_closed(conn, step):
    """`step()` on `conn`; if the connection is found closed, once more on a new one."""
    try:
        return step()
    except (redis.ConnectionError, redis.TimeoutError):
        conn.disconnect()  # redis-py has mostly done so: never read an old conversation's answer
        return step()


_skips_replies = {}  # Redis URL → whether the server honours CLIENT REPLY SKIP (learnt once per process)


def send_unanswered(*command):
    """Send `command` on this thread's connection without waiting for its answer: Redis is asked to
    send none (CLIENT REPLY SKIP), and the thread goes on at once.

    For a write whose outcome nobody reads (the lookup's cache fill). Under load, waiting for an answer
    means sleeping until Redis has run, then being woken and scheduled again; on the cold QR page that
    wait cost more CPU than the command itself. The command is carried out in order with this
    thread's other commands (the same connection), so what the thread asks next sees it. An error is
    not reported (there is no answer to carry it), and a command written just after the server closed
    the connection is lost unnoticed (the next write finds the connection closed and reopens it): for
    writes that may be lost, such as a cache fill. Where the server refuses CLIENT REPLY (a proxy
    that does not pass it), the command is sent and its answer awaited as usual.
    """
    redis_client = client()
    conn = redis_client.connection  # single_connection_client: the thread's one connection
    if not _server_skips_replies(conn):
        redis_client.execute_command(*command)
        return
    packed = conn.pack_commands([("CLIENT", "REPLY", "SKIP"), command])
    _once_more_if_closed(conn, lambda: conn.send_packed_command(packed))


def _server_skips_replies(conn) -> bool:
    url = settings.REDIS_URL
    known = _skips_replies.get(url)
    if known is None:
        # SKIP, then two echoes: a server that honours SKIP answers only the second.
        try:
            conn.send_packed_command(
                conn.pack_commands([("CLIENT", "REPLY", "SKIP"), ("ECHO", "skipped"), ("ECHO", "answered")])
            )
            try:
                first = conn.read_response()
            except redis.ResponseError:  # refused: its error, then both echoes, are answered
                conn.read_response()
                conn.read_response()
                known = False
            else:
                if first != b"answered":  # accepted but not honoured: the second echo is still to come
                    conn.read_response()
                known = first == b"answered"
        except BaseException:
            conn.disconnect()  # answers may be left unread: never reuse the conversation
            raise
        _skips_replies[url] = known
    return known
