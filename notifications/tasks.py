from celery import shared_task

from . import delivery


@shared_task(acks_late=True)
def send_notification(notification_id):
    """Send one outbox row (in the schema of the province that queued it); re-queue a retry."""
    outcome = delivery.send(notification_id)
    if outcome is not None and outcome.retry_at is not None:
        send_notification.apply_async((notification_id,), eta=outcome.retry_at)
    return outcome.state if outcome else None


@shared_task
def reap_notifications():
    """Beat, in every province: re-queue rows a lost message or a killed worker left behind."""
    due = delivery.reap()
    for pk in due:
        send_notification.delay(pk)
    return len(due)
