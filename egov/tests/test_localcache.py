import os
import time

from egov.localcache import LocalCache


def wait_until(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_an_eviction_in_one_process_reaches_the_others():
    here, there = LocalCache(), LocalCache()  # two listeners, as two web processes have
    here.get("warm-up"), there.get("warm-up")
    assert wait_until(lambda: here._subscribed.is_set() and there._subscribed.is_set())
    here.set("danang:lookup:html-vi:abc", b"old page")
    there.set("danang:lookup:html-vi:abc", b"old page")
    assert there.get("danang:lookup:html-vi:abc") == b"old page"
    here.evict_everywhere(["danang:lookup:html-vi:abc"])
    assert here.get("danang:lookup:html-vi:abc") is None  # at once where the change happened
    assert wait_until(lambda: there.get("danang:lookup:html-vi:abc") is None)


def test_entries_expire_and_the_size_is_bounded():
    cache = LocalCache(max_entries=3, ttl=0.2)
    assert wait_until(lambda: cache.get("x") is None and cache._subscribed.is_set())
    for n in range(5):
        cache.set(f"k{n}", n)
    assert [cache.get(f"k{n}") for n in range(5)] == [None, None, 2, 3, 4]
    time.sleep(0.25)
    assert cache.get("k4") is None


def test_a_forked_child_forgets_its_parents_entries_and_listens_for_itself():
    """gunicorn forks its workers: a child must not serve what its parent kept (no eviction reaches a
    copy the parent's listener thread, gone in the child, would have dropped) and must hear evictions."""
    cache = LocalCache()
    assert wait_until(lambda: cache.get("warm-up") is None and cache._subscribed.is_set())
    cache.set("danang:lookup:html-vi:kept-by-parent", b"parent's page")
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report what it sees, then leave without running the parent's cleanup
        try:
            seen = [cache.get("danang:lookup:html-vi:kept-by-parent") is None]
            seen.append(wait_until(lambda: cache._subscribed.is_set()))
            cache.set("danang:lookup:html-vi:own", b"child's page")
            seen.append(cache.get("danang:lookup:html-vi:own") == b"child's page")
            os.write(writing, ",".join(map(str, seen)).encode())
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as answer:
        report = answer.read()  # until the child's end closes the pipe
    os.waitpid(child, 0)
    assert report == "True,True,True"
    assert cache.get("danang:lookup:html-vi:kept-by-parent") == b"parent's page"  # the parent keeps its own
