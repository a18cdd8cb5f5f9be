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
