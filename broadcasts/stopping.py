"""The cancellation flag of a broadcast: a Redis key, per province, checked right before each send.

`services.cancel` sets it while it holds the broadcast's row lock, before its transaction commits, so
every send that checks the flag after `cancel()` has returned sees it: only a message already on the
wire can still go out (at most one per worker process). The database state stays the truth: when
Redis cannot answer, the check reads the broadcast's state instead.
"""

import logging

import redis

from egov import kv

logger = logging.getLogger(__name__)
KEEP_SECONDS = 7 * 24 * 3600  # far longer than any broadcast takes to send


def _key(broadcast_id):
    return kv.tenant_key("broadcast", broadcast_id, "cancelled")


def raise_flag(broadcast_id):
    """Raises redis.RedisError when the flag could not be set (the caller must then not cancel)."""
    kv.client().set(_key(broadcast_id), b"1", ex=KEEP_SECONDS)


def lower_flag(broadcast_id):
    """Undo `raise_flag` when the cancellation itself did not commit."""
    try:
        kv.client().delete(_key(broadcast_id))
    except redis.RedisError:
        logger.warning("cancellation flag of broadcast %s could not be removed", broadcast_id)


def is_cancelled(broadcast_id) -> bool:
    try:
        return bool(kv.client().exists(_key(broadcast_id)))
    except redis.RedisError:
        from .models import Broadcast, State

        return Broadcast.objects.filter(pk=broadcast_id, state=State.CANCELLED).exists()
