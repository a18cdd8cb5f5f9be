from celery import shared_task

from . import delivery


@shared_task(acks_late=True)
def start_broadcast(broadcast_id):
    batches = delivery.start(broadcast_id, enqueue=lambda ids: send_broadcast_batch.delay(broadcast_id, ids))
    if batches == "wait":
        start_broadcast.apply_async((broadcast_id,), countdown=10)
        return "waiting for the original"
    return len(batches or [])


@shared_task(acks_late=True)
def send_broadcast_batch(broadcast_id, recipient_ids):
    delivery.send_batch(broadcast_id, recipient_ids)


@shared_task
def resume_broadcasts():
    """Beat, in every province: finish broadcasts whose batches were lost."""
    work = delivery.resume()
    for broadcast_id, batches in work.items():
        for ids in batches:
            send_broadcast_batch.delay(broadcast_id, ids)
    return sum(len(b) for b in work.values())
