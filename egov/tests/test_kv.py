"""Each thread's own Redis client (egov/kv.py): never shared between threads or with a forked child,
and a command does not go through the connection pool."""

import os
import threading

import pytest
import redis
from django.conf import settings

from egov import kv
from testing.live import PrivateRedis
from testing.wire import RedisConversation


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


def test_an_unanswered_command_is_not_waited_for_and_is_carried_out_before_the_next(monkeypatch):
    """`send_unanswered`: Redis sends no answer (CLIENT REPLY SKIP), the thread reads none, and the
    thread's next command, on the same connection, sees what it did; nothing is left to read."""
    client = kv.client()
    kv.send_unanswered("PING")  # what the server honours is learnt once per process
    conversation = RedisConversation(monkeypatch)
    for number in range(50):
        kv.send_unanswered("SET", "kv-unanswered", number)
        assert client.get("kv-unanswered") == str(number).encode()
    assert conversation.sent == ["CLIENT", "SET", "GET"] * 50
    assert conversation.waits == 50  # the GETs' answers only
    assert not client.connection.can_read()


def test_an_unanswered_command_that_fails_leaves_the_conversation_in_step(monkeypatch):
    """A command Redis refuses sends back no error either; the answers that follow are still theirs."""
    client = kv.client()
    client.set("kv-unanswered", "text")
    kv.send_unanswered("INCR", "kv-unanswered")  # not an integer: refused, the error not sent
    kv.send_unanswered("NO-SUCH-COMMAND")
    assert client.get("kv-unanswered") == b"text"
    assert client.ping() is True
    assert not client.connection.can_read()


def test_an_unanswered_command_goes_out_on_a_new_connection_after_the_old_one_was_cut():
    client = kv.client()
    kv.send_unanswered("SET", "kv-unanswered", "before")
    name = f"kv-cut-{os.getpid()}-{threading.get_ident()}"
    client.client_setname(name)
    killer = redis.Redis.from_url(settings.REDIS_URL)
    (victim,) = [c for c in killer.client_list() if c["name"] == name]
    assert killer.client_kill_filter(_id=victim["id"]) == 1
    for _ in range(3):  # the first may go into the closed socket, unnoticed; a later one reconnects
        kv.send_unanswered("SET", "kv-unanswered", "after")
    assert client.get("kv-unanswered") == b"after"


def test_an_asked_command_is_answered_as_redis_py_answers_it_and_nothing_is_left(monkeypatch):
    client = kv.client()
    client.set("kv-ask-a", "một")
    client.delete("kv-ask-none")
    kv.send_unanswered("PING")  # what the server honours is learnt once per process
    conversation = RedisConversation(monkeypatch)
    for _ in range(20):
        expected = ["một".encode(), None]
        assert kv.ask("MGET", "kv-ask-a", "kv-ask-none") == client.mget("kv-ask-a", "kv-ask-none") == expected
        kv.send_unanswered("SET", "kv-ask-a", "hai")
        assert kv.ask("GET", "kv-ask-a") == b"hai"  # after the unanswered write, on the same connection
        client.set("kv-ask-a", "một")
    assert conversation.waits == 20 * 4  # one per command answered; none for the unanswered write
    assert not client.connection.can_read()


def test_an_asked_command_that_fails_raises_and_leaves_the_conversation_in_step():
    client = kv.client()
    client.set("kv-ask-text", "text")
    with pytest.raises(redis.ResponseError):
        kv.ask("INCR", "kv-ask-text")
    with pytest.raises(redis.ResponseError):
        kv.ask("NO-SUCH-COMMAND")
    assert kv.ask("GET", "kv-ask-text") == b"text"
    assert not client.connection.can_read()


def test_an_asked_command_is_answered_on_a_new_connection_after_the_old_one_was_cut():
    client = kv.client()
    client.set("kv-ask-cut", "kept")
    name = f"kv-ask-cut-{os.getpid()}-{threading.get_ident()}"
    client.client_setname(name)
    killer = redis.Redis.from_url(settings.REDIS_URL)
    (victim,) = [c for c in killer.client_list() if c["name"] == name]
    assert killer.client_kill_filter(_id=victim["id"]) == 1
    assert kv.ask("GET", "kv-ask-cut") == b"kept"  # the very first: no error reaches the caller
    assert [c for c in killer.client_list() if c["id"] == victim["id"]] == []  # a new connection answered


def test_a_server_that_refuses_client_reply_gets_its_commands_answered(settings):
    """Behind a proxy that does not pass CLIENT REPLY, the command is sent and its answer read as usual:
    no answer is left on the connection to be taken for the next command's."""
    server = PrivateRedis(options=("--rename-command", "CLIENT", "")).start()
    try:
        settings.REDIS_URL = server.url
        client = kv.client()
        for number in range(5):
            kv.send_unanswered("SET", "kv-unanswered", number)
            assert client.get("kv-unanswered") == str(number).encode()
        assert kv._skips_replies[server.url] is False
        assert not client.connection.can_read()
    finally:
        kv.client().close()
        server.close()
