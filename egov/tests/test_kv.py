"""Each thread's own Redis client (egov/kv.py): never shared between threads or with a forked child,
and a command does not go through the connection pool."""

import os
import threading

import pytest

from egov import kv


def test_each_thread_has_its_own_client_and_keeps_it():
    here = kv.client()
    assert kv.client() is here
    theirs = []
    threads = [threading.Thread(target=lambda: theirs.append(kv.client())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(c) for c in theirs}) == 3 and here not in theirs


def test_a_command_takes_nothing_from_the_pool(monkeypatch):
    client = kv.client()
    client.ping()  # connected
    taken = []
    pool = client.connection_pool
    real = pool.get_connection
    monkeypatch.setattr(pool, "get_connection", lambda *a, **k: taken.append(1) or real(*a, **k))
    for number in range(20):
        client.set("kv-test", number)
        assert client.get("kv-test") == str(number).encode()
    assert taken == []


def test_another_redis_url_gets_another_client(settings):
    first = kv.client()
    settings.REDIS_URL = settings.REDIS_URL.rsplit("/", 1)[0] + "/13"
    second = kv.client()
    assert second is not first
    assert second.connection_pool.connection_kwargs["db"] == 13


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_never_writes_on_its_parent_s_connection():
    """Celery's pool forks: a child using its parent's socket would interleave both conversations."""
    parent = kv.client()
    parent.set("kv-fork", "parent")
    parent_socket = parent.connection._sock
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, never return into pytest
        try:
            child = kv.client()
            fresh = child is not parent and child.connection is not parent.connection
            child.set("kv-fork-child", "child")
            answer = b"ok" if fresh and child.connection._sock is not parent_socket else b"shared"
        except BaseException as exc:  # noqa: BLE001 - anything reported to the parent
            answer = repr(exc).encode()
        os.write(write, answer)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    assert answer == b"ok"
    assert parent.get("kv-fork") == b"parent"  # the parent's conversation is intact
    assert parent.get("kv-fork-child") == b"child"
