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
