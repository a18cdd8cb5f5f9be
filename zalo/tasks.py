from celery import shared_task

from . import accounts, inbox


@shared_task
def refresh_token_ahead():
    """Beat, in every province: refresh the OA token well before it expires (one refresh at a time)."""
    if accounts.current_account() is None:
        return "not configured"
    accounts.access_token()
    return "ok"


@shared_task(acks_late=True)
def process_inbound_event(event_id):
    return inbox.process(event_id)
