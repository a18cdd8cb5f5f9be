"""Returning the result asks the citizen, once, to rate the service.

Like notifications/reactions.py: the request and its outbox row are written inside the transaction of
the `return_result` event (`dossier_event`), and delivery is queued after the commit. The request is
unique per dossier and the outbox row unique per (event, kind), so the same event delivered twice —
or any later event — asks nothing more.
"""

import logging

from django.db import IntegrityError, transaction
from django.dispatch import receiver

from dossiers.events import dossier_event
from notifications.models import Kind

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
            notification = reactions._create_row(event, dossier, Kind.RATING)
            request = RatingRequest.objects.create(dossier=dossier, event=event, notification=notification)
    except IntegrityError:
        return None
    except Exception:
        logger.exception("no rating request for dossier event %s", getattr(event, "pk", None))
        return None
    transaction.on_commit(lambda: reactions._enqueue(notification.pk))
    return request
