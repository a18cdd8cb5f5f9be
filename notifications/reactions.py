"""Dossier events → outbox rows, written inside the event's own transaction.

Dossier code knows nothing of Zalo: this module listens to `dossier_event`. Delivery is queued
only after the commit; a lost broker message is picked up by the reaper.
"""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers import workflow
from dossiers.events import dossier_event
from dossiers.links import lookup_url
from supplements.links import upload_url
from supplements.signals import supplement_files_refused
from zalo.signals import dossier_link_created

from . import texts
from .models import Kind, Notification
from .template_data import CS_TEXT_MAX, fit_text

logger = logging.getLogger(__name__)

# Which action sends which message is the registry's `message=` (dossiers/workflow.py), not a table here.


def kind_for(event, dossier):
    """The message the event sends the citizen: named by its action in the registry."""
    kind = workflow.message_kind(event.action, dossier)
    return Kind(kind) if kind else None


def _values(event, dossier, kind):
    values = {
        "code": dossier.code,
        "procedure": dossier.procedure.name,
        "date": f"{dossier.appointment_date:%d/%m/%Y}" if dossier.appointment_date else "",
        "link": lookup_url(dossier),
        "reason": event.citizen_note if event is not None else "",
    }
    if kind == Kind.RATING:  # the one-tap rating page on the citizen's token
        from ratings.links import rating_url

        values["link"] = rating_url(dossier)
    if kind == Kind.SUPPLEMENT:
        request = dossier.supplement_requests.order_by("-requested_at").first()
        if request:
            values["missing"] = "; ".join(f"{i.name} ({i.reason})" for i in request.items.all())
            officer = request.requested_by
            contact = f"{officer.full_name}, {officer.title}" if officer.title else officer.full_name
            values["officer"] = f"{contact} ({officer.phone})" if officer.phone else contact
            # The signed, expiring link to send the papers online (supplements.links); "" once received.
            values["upload"] = upload_url(dossier, request) if request.received_at is None else ""
    if kind == Kind.SUPPLEMENT_REFUSED:
        # Everything still missing, as the last refusal message told it (a template's parameters at send time).
        from supplements.services import refusal_values

        values.update(refusal_values(dossier))
    if kind == Kind.NEW_APPOINTMENT and event is not None:
        # After a supplement the citizen is told the date whether it moved or not, and which it is.
        request = (
            dossier.supplement_requests.exclude(received_at=None)
            .filter(received_at__lte=event.created_at)
            .order_by("-received_at")
            .first()
        )
        before, after = (request.appointment_before, request.appointment_after) if request else (None, None)
        if before and after and before != after:
            values["reason"] = _("hẹn trước đây: %s") % f"{before:%d/%m/%Y}"
        else:
            values["reason"] = _("không thay đổi")
    return values


@receiver(dossier_event, dispatch_uid="notifications.outbox")
def write_outbox_row(sender, event, dossier, **kwargs):
    """The outbox row for a dossier event. Never raises: the officer's action goes through whatever happens here."""
    try:
        kind = kind_for(event, dossier)
        if kind is None:
            return None
        with transaction.atomic():  # a savepoint: a replayed event or a failure here must not poison the action
            notification = _create_row(event, dossier, kind)
    except IntegrityError:
        return None  # already written for this event and kind
    except Exception:  # the message is lost, the dossier action is not
        logger.exception("no outbox row for dossier event %s (%s)", getattr(event, "pk", None), event.action)
        return None
    transaction.on_commit(lambda: _enqueue(notification.pk))
    return notification


def _create_row(event, dossier, kind):
    from django.db import connection

    values = _values(event, dossier, kind)
    text, text_error = texts.render_with_error(kind, **values)
    if len(text) > CS_TEXT_MAX:  # shorten the procedure name (never the code, date or link) to Zalo's limit
        text = fit_text(lambda **v: texts.render_with_error(kind, **v)[0], values) or text
    return Notification.objects.create(
        dossier=dossier,
        event=event,
        kind=kind,
        text=text,
        last_error=text_error[:300],  # the province's text was unusable: officers see why the default went out
        tracking_id=f"{connection.schema_name}-{event.pk}-{kind}"[:48],
        deadline=timezone.now() + timedelta(hours=settings.NOTIFICATION_DEADLINE_HOURS),
        next_attempt_at=timezone.now(),
    )


def _enqueue(pk):
    from .tasks import send_notification

    send_notification.delay(pk)


# --- a Zalo account linked to a dossier (issue 9.1): told to the applicant's own phone -----------


def account_label(follower):
    """“Display name” (…last 4 digits of the Zalo id): how a linked account is named to the applicant."""
    account = f"(…{follower.user_id[-4:]})"
    if follower.display_name:
        account = f"“{follower.display_name[:60]}” {account}"
    return account


@receiver(dossier_link_created, dispatch_uid="notifications.zalo_link")
def announce_zalo_link(sender, link, **kwargs):
    """Written in the linking transaction: no link without its announcement. Delivery uses ZNS to the phone only."""
    from django.db import connection

    dossier = link.dossier
    values = dict(
        code=dossier.code,
        procedure=dossier.procedure.name,
        link=lookup_url(dossier),
        account=account_label(link.follower),
    )
    render = partial(texts.render, Kind.ZALO_LINK)
    text = fit_text(render, values) or render(**values)
    notification = Notification.objects.create(
        dossier=dossier,
        kind=Kind.ZALO_LINK,
        text=text,
        tracking_id=f"{connection.schema_name}-zl-{link.pk}"[:48],
        deadline=timezone.now() + timedelta(hours=settings.NOTIFICATION_DEADLINE_HOURS),
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue(notification.pk))
    return notification


# --- files sent online refused by an officer (issue 13): one message with everything still missing ---------


@receiver(supplement_files_refused, dispatch_uid="notifications.supplement_refused")
def announce_refused_files(sender, dossier, request, files, missing, officer, **kwargs):
    """Written in the review's transaction: no refusal without its message. Once per review: the row is
    named after the last file it tells of, and a file is told once (supplements.services.finish_review)."""
    from django.db import connection

    values = dict(
        code=dossier.code,
        procedure=dossier.procedure.name,
        date=f"{dossier.appointment_date:%d/%m/%Y}" if dossier.appointment_date else "",
        link=lookup_url(dossier),
        missing=missing,
        officer=officer,
        upload=upload_url(dossier, request),  # the request is still open: the citizen sends again
    )
    render = partial(texts.render, Kind.SUPPLEMENT_REFUSED)
    text = fit_text(render, values) or render(**values)
    notification = Notification.objects.create(
        dossier=dossier,
        kind=Kind.SUPPLEMENT_REFUSED,
        text=text,
        tracking_id=f"{connection.schema_name}-sr-{max(f.pk for f in files)}"[:48],
        deadline=timezone.now() + timedelta(hours=settings.NOTIFICATION_DEADLINE_HOURS),
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue(notification.pk))
    return notification
