"""Returning the result asks the citizen, once, to rate the service.

Like notifications/reactions.py: the request and its outbox row are written inside the transaction of
the `return_result` event (`dossier_event`), and delivery is queued after the commit. The request is
unique per dossier (a database constraint) and its outbox row is tracked by the request, so the same
event delivered twice — or any later event — asks nothing more.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.dispatch import receiver
from django.utils import timezone

from dossiers.events import dossier_event
from notifications.models import Kind, Notification

from .models import RatingRequest

logger = logging.getLogger(__name__)

ASKING_ACTION = "return_result"


@receiver(dossier_event, dispatch_uid="ratings.ask_once")
def ask_to_rate(sender, event, dossier, **kwargs):
    """Never raises: the officer's action goes through whatever happens here."""
    if event.action != ASKING_ACTION:
        return None
    from notifications import reactions

    try:
        with transaction.atomic():  # a savepoint: a replay (IntegrityError) leaves the action untouched
            if RatingRequest.objects.filter(dossier=dossier).exists():
                return None
            request = RatingRequest.objects.create(dossier=dossier, event=event)
            notification = _outbox_row(request, dossier)
            request.notification = notification
            request.save(update_fields=["notification"])
    except IntegrityError:
        return None
    except Exception:
        logger.exception("no rating request for dossier event %s", getattr(event, "pk", None))
        return None
    transaction.on_commit(lambda: reactions._enqueue(notification.pk))
    return request


def _outbox_row(request, dossier):
    """The request's message. It hangs on the request (one per dossier), not on the event: the event's own
    messages are the registry's (`workflow.message_kind`), and returning the result has none."""
    from notifications import reactions, texts
    from notifications.template_data import CS_TEXT_MAX, fit_text

    values = reactions._values(None, dossier, Kind.RATING)
    text, text_error = texts.render_with_error(Kind.RATING, **values)
    if len(text) > CS_TEXT_MAX:
        text = fit_text(lambda **v: texts.render_with_error(Kind.RATING, **v)[0], values) or text
    return Notification.objects.create(
        dossier=dossier,
        kind=Kind.RATING,
        text=text,
        last_error=text_error[:300],
        tracking_id=f"{connection.schema_name}-rt-{request.pk}"[:48],
        deadline=timezone.now() + timedelta(hours=settings.NOTIFICATION_DEADLINE_HOURS),
        next_attempt_at=timezone.now(),
    )
