from celery import shared_task

from . import accounts, chatfiles, inbox, media


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


FETCH_RETRIES = 5


@shared_task(bind=True, acks_late=True, max_retries=FETCH_RETRIES)
def fetch_chat_files(self, event_key):
    """Fetch the photos/files of a stored user_send_image/user_send_file event and attach them (once)."""
    final = self.request.retries >= FETCH_RETRIES
    try:
        return chatfiles.handle(event_key, final_attempt=final)
    except media.Unavailable as exc:
        raise self.retry(exc=exc, countdown=min(5 * 2**self.request.retries, 300)) from exc
