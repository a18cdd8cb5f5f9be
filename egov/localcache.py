"""A small per-process cache in front of Redis, kept coherent by eviction messages.

Hot, rarely changing responses (the QR status page during a rush) are served from process memory.
Whoever changes the underlying data publishes the keys to evict on a Redis channel; every web
process listens on a background thread and drops them. The local copy is used only while the
listener is subscribed (a process that lost the channel serves from Redis until it is back), and
every entry also expires after a short TTL, which bounds the staleness of the rare race where a
process fills its copy from data read just before a change.
"""

import logging
import os
import threading
import time
from collections import OrderedDict

from . import kv

logger = logging.getLogger(__name__)
CHANNEL = "motcua:localcache:evict"

# This process, as the caches know it: a forked child gets a new one (and so starts its own listener
# and forgets its parent's entries). Compared on every lookup: a plain comparison, where `os.getpid()`
# was a system call per lookup.
_process = object()


def _new_process():
    global _process
    _process = object()


os.register_at_fork(after_in_child=_new_process)


class LocalCache:
    def __init__(self, max_entries=20_000, ttl=30.0):
        self.max_entries = max_entries
        self.ttl = ttl
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._process = None  # where the listener runs
        self._subscribed = threading.Event()
        # Counts evictions: a value read from the database before an eviction arrived is not stored after it.
        self.generation = 0

    # --- the listener ---------------------------------------------------------------------

    def _ensure_listener(self):
        if self._process is _process:
            return
        with self._lock:
            if self._process is _process:
                return
            self._process = _process  # after a fork the parent's thread is gone: start our own
            self._subscribed.clear()
            self._data.clear()
            threading.Thread(target=self._listen, name="localcache-evict", daemon=True).start()

    def _listen(self):
        while True:
            try:
                pubsub = kv.client().pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                self._subscribed.set()
                for message in pubsub.listen():
                    if message["type"] == "message":
                        self.evict_local(message["data"].decode().split("\n"))
            except Exception:  # noqa: BLE001 - any failure: stop serving local copies, retry
                logger.warning("local cache lost its eviction channel; serving from Redis until it is back")
            self._subscribed.clear()
            with self._lock:
                self._data.clear()
                self.generation += 1
            time.sleep(1)

    # --- use ------------------------------------------------------------------------------

    def get(self, key):
        self._ensure_listener()
        if not self._subscribed.is_set():
            return None
        entry = self._data.get(key)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def set(self, key, value, generation=None):
        """Keep `value`; with `generation` (read before the value was), only if no eviction came since."""
        self._ensure_listener()
        if not self._subscribed.is_set():
            return
        with self._lock:
            if generation is not None and generation != self.generation:
                return
            self._data[key] = (value, time.monotonic() + self.ttl)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def evict_local(self, keys):
        with self._lock:
            self.generation += 1
            for key in keys:
                self._data.pop(key, None)

    def evict_everywhere(self, keys):
        """Drop `keys` here at once and in every other process through the channel."""
        keys = list(keys)
        self.evict_local(keys)
        if keys:
            kv.client().publish(CHANNEL, "\n".join(keys))
