"""Papers a citizen sends in the OA chat for an open supplement request (issue 13).

``user_send_image`` / ``user_send_file`` events (docs/zalo-api.md: ``message.attachments[{type,
payload{url, …}}]``) are verified and stored by the webhook like every event; ``zalo.inbox`` then
queues :func:`zalo.tasks.fetch_chat_files`, which fetches each attachment from Zalo's CDN
(:mod:`zalo.media`: size cap, timeout, only Zalo's hosts, no SSRF) and attaches it through
``supplements.services.attach_file`` to the open supplement request of the dossier linked to that Zalo
account (``zalo.models.DossierLink``).

- No linked dossier, or none with an open request, or several dossiers waiting: a Vietnamese answer
  (several: the upload link of each, so a file never lands on the wrong dossier).
- One item missing: the file answers it; several: the bot lists them and the citizen replies with
  the item's number (:func:`answer_item_choice`, from ``zalo.inbox.on_text``). Each file is
  confirmed; a refused file gets the checks' Vietnamese message.
- Once: the webhook stores an event once per ``msg_id``; the task records its progress on the event
  (``outcome`` ``media:<done>/<total>``) in the same transaction as each attachment, under the
  event's row lock, so a redelivered or retried task attaches nothing twice and answers once.
  ``attach_file`` is itself idempotent per Zalo message id.
"""

import logging
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import media
from .models import DossierLink, InboundEvent

logger = logging.getLogger(__name__)

KINDS = ("image", "file")
_PROGRESS = re.compile(r"^media:(\d+)/(\d+)$")
_CHOICE = re.compile(r"^\s*(?:số|so|#)?\s*(\d{1,2})\s*[.)]?\s*$", re.IGNORECASE)


def attachments(payload) -> list[dict]:
    """The image and file attachments of a ``user_send_image`` / ``user_send_file`` event, as Zalo shapes
    them; a malformed one raises KeyError or TypeError (the event is then recorded as malformed)."""
    found = []
    for attachment in payload["message"]["attachments"]:
        kind, body = attachment["type"], attachment["payload"]
        if kind not in KINDS:
            continue
        url = body["url"]
        if not isinstance(url, str) or not url:
            raise TypeError("attachment url is not a string")
        found.append({"type": kind, "url": url, "name": str(body.get("name") or ""), "size": body.get("size")})
    return found


def progress_outcome(done, total):
    return f"media:{done}/{total}"


def _progress(outcome):
    match = _PROGRESS.match(outcome or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def message_id(payload, index):
    """The Zalo message id a file is stored under (one message may carry several attachments)."""
    msg_id = str(payload["message"]["msg_id"])
    return msg_id if index == 0 else f"{msg_id}#{index}"


# -- which dossier --------------------------------------------------------------------------------


def waiting_dossiers(user_id):
    """[(dossier, open supplement request)] of the dossiers linked to this Zalo account."""
    from supplements import services as supplements

    found = []
    links = DossierLink.objects.filter(follower__user_id=user_id, removed_at__isnull=True).select_related("dossier")
    for link in links.order_by("linked_at"):
        request = supplements.open_request(link.dossier)
        if request is not None:
            found.append((link.dossier, request))
    return found


def no_target_text(user_id, waiting):
    """Why a file cannot be taken (None when exactly one dossier waits for papers)."""
    if len(waiting) == 1:
        return None
    if not waiting:
        if not DossierLink.objects.filter(follower__user_id=user_id, removed_at__isnull=True).exists():
            return _(
                "Tài khoản Zalo này chưa liên kết với hồ sơ nào nên chưa nhận được giấy tờ. Vui lòng gửi: <mã hồ sơ> "
                "<số điện thoại hoặc số CCCD của người nộp>, rồi gửi lại ảnh hoặc tệp."
            )
        from supplements import services as supplements

        return supplements._no_open_request().message  # the intake's own words for it
    from supplements import links

    lines = [
        _(
            "Ông/bà có %(n)s hồ sơ đang chờ bổ sung. Để giấy tờ vào đúng hồ sơ, vui lòng gửi qua liên kết "
            "của từng hồ sơ:"
        )
        % {"n": len(waiting)}
    ]
    lines += [f"- {dossier.code}: {links.upload_url(dossier)}" for dossier, _request in waiting]
    return "\n".join(lines)


# -- texts ----------------------------------------------------------------------------------------


def _label(file):
    if file.content_type.startswith("image/"):
        return _("ảnh gửi lúc %s") % timezone.localtime(file.created_at).strftime("%H:%M")
    return _("tệp “%s”") % (file.original_name or _("không tên"))


def numbered_missing(request):
    """[(number, item)] of the items still missing; an item keeps its number (its place in the request)."""
    from supplements import services as supplements

    missing = {item.pk for item in supplements.missing_items(request)}
    return [(n, item) for n, item in enumerate(request.items.order_by("id"), start=1) if item.pk in missing]


def item_list(request):
    return "\n".join(f"{number}. {item.name}" for number, item in numbered_missing(request))


def question_text(file):
    return _("Đã nhận %(what)s. Đây là giấy tờ nào? Vui lòng trả lời bằng số thứ tự:\n%(items)s") % {
        "what": _label(file),
        "items": item_list(file.request),
    }


def received_text(file):
    return _("Đã nhận %(what)s cho giấy tờ “%(item)s” của hồ sơ %(code)s. Cán bộ sẽ xem xét và báo lại ông/bà.") % {
        "what": _label(file),
        "item": file.item.name,
        "code": file.dossier.code,
    }


def _answer_for(file):
    from supplements.models import FileState

    return question_text(file) if file.state == FileState.AWAITING_ITEM else received_text(file)


# -- the task's work ------------------------------------------------------------------------------


def handle(event_key, *, final_attempt=False):
    """Fetch and attach every attachment of the stored event not yet handled; returns the outcome.

    Raises :class:`zalo.media.Unavailable` when Zalo's CDN should be asked again later (unless
    ``final_attempt``: then the citizen is asked to send the file again)."""
    from supplements import checks
    from supplements import services as supplements
    from supplements.models import Source

    event = InboundEvent.objects.get(dedupe_key=event_key)
    found = attachments(event.payload)
    state = _progress(event.outcome)
    if state is None:
        return event.outcome
    user_id = str(event.payload["sender"]["id"])
    for index in range(state[0], len(found)):
        attachment = found[index]
        waiting = waiting_dossiers(user_id)
        refusal = no_target_text(user_id, waiting)
        data = None
        if refusal is None:
            try:
                data = _download(attachment)
            except media.Refused as exc:
                refusal = exc.message
            except media.Unavailable:
                if not final_attempt:
                    raise
                refusal = _("Chưa tải được tệp từ Zalo. Vui lòng gửi lại sau ít phút.")
        with transaction.atomic():
            event = InboundEvent.objects.select_for_update().get(pk=event.pk)
            current = _progress(event.outcome)
            if current is None or current[0] > index:
                continue  # another delivery of this task did it
            answer = refusal
            if answer is None:
                dossier = waiting[0][0]
                try:
                    file = supplements.attach_file(
                        dossier=dossier,
                        data=data,
                        original_name=attachment["name"] or _("Ảnh gửi qua Zalo"),
                        source=Source.CHAT,
                        follower_user_id=user_id,
                        zalo_message_id=message_id(event.payload, index),
                    )
                except checks.FileRefused as exc:
                    answer = str(exc.message)
                else:
                    answer = _answer_for(file)
            event.outcome = progress_outcome(index + 1, len(found))
            event.save(update_fields=["outcome"])
            transaction.on_commit(lambda text=answer: _reply(user_id, text))
    return progress_outcome(len(found), len(found))


def _download(attachment):
    """The attachment's bytes, at most SUPPLEMENT_MAX_BYTES (a larger one gets the checks' message)."""
    from supplements import checks

    cap = checks.max_bytes()
    declared = attachment.get("size")
    try:
        if declared is not None and str(declared).isdigit() and int(declared) > cap:
            raise media.TooLarge(int(declared))  # Zalo said how big: not downloaded at all
        return media.fetch(attachment["url"], cap).content
    except media.TooLarge as exc:
        raise media.Refused(checks.too_large().message, exc.reason) from exc


def _reply(user_id, text):
    from .inbox import send_reply

    send_reply(user_id, text)


# -- the citizen says which item ------------------------------------------------------------------


def _awaiting(dossier, request, user_id):
    """Files of this account waiting for their item, for the open request only (a file left waiting when
    an earlier request was received at the counter answers nothing any more)."""
    from supplements import services as supplements

    return [f for f in supplements.files_awaiting_item(dossier, user_id) if f.request_id == request.pk]


def answer_item_choice(user_id, text):
    """The bot's answer when ``text`` is an item's number and a file of this Zalo account waits for one;
    else None (the message goes to the usual bot)."""
    from supplements import checks
    from supplements import services as supplements

    match = _CHOICE.match(text or "")
    if not match:
        return None
    found = [
        (request, files)
        for dossier, request in waiting_dossiers(user_id)
        if (files := _awaiting(dossier, request, user_id))
    ]
    if not found:
        return None
    request, files = found[0]
    items = dict(numbered_missing(request))
    item = items.get(int(match.group(1)))
    if item is None:
        return _("Vui lòng trả lời bằng số thứ tự của một giấy tờ còn thiếu:\n%s") % item_list(request)
    try:
        file = supplements.choose_item(files[0], item)
    except checks.FileRefused as exc:
        return exc.message
    lines = [received_text(file)]
    if len(files) > 1:
        lines.append(question_text(files[1]))
    return "\n".join(lines)
