"""Every change of a file a citizen sent online (`SupplementFile`) is made here.

Intake (issue 13, the contract the chat, the upload link and the review build on):
- `open_request(dossier)`: the supplement request a file may answer, or None;
- `attach_file(...)`: checks the file (`supplements.checks`), stores it through Django's storage API and
  records it against the open request; once per Zalo message;
- `choose_item(file, item)`, `files_awaiting_item(dossier, follower_user_id)`: the citizen says which
  missing item a file answers when several are missing.

Review (issue 13.2, officers decide per item): `accept_files`, `refuse_file`, then `finish_review`: one
message to the citizen with everything still missing, or, every item accepted, the supplement received.

The dossier itself is never changed here: receiving the supplement goes through
`dossiers.services.receive_supplement`.
"""

import hashlib
from enum import StrEnum

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from dossiers import services as dossier_services
from dossiers import workflow
from dossiers.models import Dossier, MissingComponent, Status, SupplementRequest
from offices.models import Officer

from . import checks
from .checks import FileRefused
from .links import upload_url
from .models import FileState, Source, SupplementFile
from .signals import supplement_files_refused


class NoOpenRequest(FileRefused):
    """No supplement request of the dossier is waiting for papers."""


def _no_open_request():
    return NoOpenRequest(
        _(
            "Hồ sơ của bạn hiện không có yêu cầu bổ sung giấy tờ nào đang chờ, nên tệp này không được nhận. "
            "Nếu cần, vui lòng liên hệ bộ phận một cửa."
        ),
        code="no_request",
    )


def open_request(dossier: Dossier) -> SupplementRequest | None:
    """The supplement request of `dossier` still waiting for papers (the dossier is in status 5)."""
    # Read from the database, not the object's fields: a caller's copy of the dossier may be older.
    return (
        SupplementRequest.objects.filter(dossier_id=dossier.pk, received_at=None, dossier__status=Status.SUPPLEMENT)
        .order_by("-requested_at", "-id")
        .first()
    )


def missing_items(request: SupplementRequest) -> list[MissingComponent]:
    """The request's items no accepted file answers yet (refused or unreviewed files still leave it missing)."""
    accepted = SupplementFile.objects.filter(request=request, state=FileState.ACCEPTED).values("item_id")
    return list(request.items.exclude(pk__in=accepted).order_by("id"))


def attach_file(
    *,
    dossier: Dossier,
    data: bytes,
    original_name: str,
    source: str,
    item: MissingComponent | None = None,
    follower_user_id: str = "",
    zalo_message_id: str = "",
) -> SupplementFile:
    """Check `data`, store it and record it for the dossier's open supplement request.

    - The same `zalo_message_id` twice (a retried webhook, a task run twice) returns the first file.
    - `item` given (the upload page's button): the file answers it; it must be one of the request's items.
      No item: with one item still missing the file answers it, with several it waits for the citizen
      to say which (`awaiting_item`, then `choose_item`).
    - Refusals (`FileRefused`, `NoOpenRequest`) carry the Vietnamese text for the citizen; nothing is stored.
    """
    if source not in Source.values:
        raise ValueError(f"unknown source {source!r}")
    if zalo_message_id:
        existing = SupplementFile.objects.filter(zalo_message_id=zalo_message_id).first()
        if existing is not None:
            return existing
    request = open_request(dossier)
    if request is None:
        raise _no_open_request()
    if item is not None and item.request_id != request.pk:
        raise FileRefused(_("Giấy tờ bạn chọn không có trong yêu cầu bổ sung đang chờ của hồ sơ."), code="item")
    checked = checks.check(data, original_name)

    if item is None:
        missing = missing_items(request)
        if len(missing) == 1:
            item = missing[0]
    state = FileState.RECEIVED if item is not None else FileState.AWAITING_ITEM
    record = SupplementFile(
        request=request,
        dossier=dossier,
        item=item,
        source=source,
        state=state,
        original_name=(original_name or "")[:255],
        content_type=checked.content_type,
        size=len(checked.content),
        sha256=hashlib.sha256(checked.content).hexdigest(),
        follower_user_id=follower_user_id,
        zalo_message_id=zalo_message_id,
    )
    # The name is random (models.stored_name): the citizen's file name is kept only as data.
    record.file.save("upload", ContentFile(checked.content), save=False)
    try:
        with transaction.atomic():
            # One request's files are counted under its row's lock: two uploads at once cannot pass the cap.
            SupplementRequest.objects.select_for_update().filter(pk=request.pk).first()
            if SupplementFile.objects.filter(request=request).count() >= settings.SUPPLEMENT_MAX_FILES:
                raise FileRefused(
                    _(
                        "Đã nhận đủ số tệp tối đa cho yêu cầu bổ sung này (%(count)s tệp). "
                        "Vui lòng chờ cán bộ xem xét hoặc liên hệ bộ phận một cửa."
                    )
                    % {"count": settings.SUPPLEMENT_MAX_FILES},
                    code="too_many",
                )
            record.save()
    except IntegrityError:
        record.file.delete(save=False)
        if zalo_message_id:  # the same message recorded meanwhile by another worker
            return SupplementFile.objects.get(zalo_message_id=zalo_message_id)
        raise
    except BaseException:
        record.file.delete(save=False)
        raise
    # A rollback of the caller's transaction would leave the stored file without its row: the
    # retention task (supplements.tasks) deletes such orphans too.
    status_page_changed(dossier)
    return record


def status_page_changed(dossier: Dossier):
    """The citizen's status page lists the files sent online: its cached copies go after the commit.
    Every change of a file the citizen sees (received, item chosen, accepted, refused) calls this."""
    from dossiers.lookup import invalidate_cached_status

    token = dossier.lookup_token
    transaction.on_commit(lambda: invalidate_cached_status(sender=None, dossier=_Token(token), event=None))


class _Token:
    """What the status page's cache invalidation reads of a dossier: its lookup token."""

    def __init__(self, lookup_token):
        self.lookup_token = lookup_token


def choose_item(file: SupplementFile, item: MissingComponent) -> SupplementFile:
    """The citizen said which missing item `file` answers: awaiting_item -> received."""
    with transaction.atomic():
        locked = SupplementFile.objects.select_for_update().get(pk=file.pk)
        if item.request_id != locked.request_id:
            raise FileRefused(_("Giấy tờ bạn chọn không có trong yêu cầu bổ sung đang chờ của hồ sơ."), code="item")
        if locked.state != FileState.AWAITING_ITEM:
            return locked
        locked.item = item
        locked.state = FileState.RECEIVED
        locked.save(update_fields=["item", "state"])
        status_page_changed(locked.dossier)
    return locked


def files_awaiting_item(dossier: Dossier, follower_user_id: str) -> list[SupplementFile]:
    """Files `follower_user_id` sent for `dossier` whose item the citizen has not said yet, oldest first."""
    return list(
        SupplementFile.objects.filter(
            dossier=dossier, follower_user_id=follower_user_id, state=FileState.AWAITING_ITEM
        ).order_by("created_at", "id")
    )


# --- retention ----------------------------------------------------------------------------------------


def delete_expired_files(now=None) -> int:
    """Delete the stored files that arrived more than `SUPPLEMENT_RETENTION_DAYS` ago (the row stays, with
    its facts and an empty file name, so the dossier's history still says what was sent), and stored files
    of this province that no row names (a transaction rolled back after the file was written) once they are
    a day old. Returns how many files were deleted."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SUPPLEMENT_RETENTION_DAYS)
    deleted = 0
    for record in SupplementFile.objects.filter(created_at__lt=cutoff).exclude(file="").order_by("id").iterator():
        record.file.storage.delete(record.file.name)
        SupplementFile.objects.filter(pk=record.pk).update(file="")
        deleted += 1

    storage = SupplementFile._meta.get_field("file").storage
    folder = f"supplements/{connection.schema_name}"
    try:
        _, names = storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return deleted
    known = set(SupplementFile.objects.filter(file__startswith=folder + "/").values_list("file", flat=True))
    for name in names:
        path = f"{folder}/{name}"
        if path in known:
            continue
        try:
            if storage.get_modified_time(path) > now - timedelta(days=1):
                continue  # perhaps a file whose row is being written right now
        except (FileNotFoundError, NotImplementedError):
            continue
        storage.delete(path)
        deleted += 1
    return deleted


# --- review: officers decide per item (issue 13.2) --------------------------------------------------
# An officer who may receive the supplement (workflow rule "receive_supplement": the holder's department or
# the counter, with the permission) accepts files or refuses one with a reason; `finish_review` then tells
# the citizen, in one message, everything still missing, or, when every item is accepted, records the
# supplement received through `dossiers.services.receive_supplement` (clock and appointment as for paper).
# Each call locks the dossier row first, as every dossier action does, so two officers reviewing at once
# are served one after the other, and the second finds the files no longer as its page showed them.

REVIEW_RULE = "receive_supplement"


class Review(StrEnum):
    """What `finish_review` did."""

    TOLD = "told"  # one message to the citizen with everything still missing
    RECEIVED = "received"  # every item accepted: the supplement is received, the clock runs again
    NOTHING = "nothing"  # no refusal to tell and items still missing (files still awaited)


def may_review(officer, dossier) -> bool:
    """Whether `officer` may decide on the files sent for `dossier` (ignoring its status)."""
    return isinstance(officer, Officer) and workflow.may_perform(officer, REVIEW_RULE, dossier)


def _check_reviewer(officer, dossier):
    if not isinstance(officer, Officer):
        raise dossier_services.ActionForbidden(_("Chỉ cán bộ mới được xem xét giấy tờ bổ sung."))
    if not may_review(officer, dossier):
        raise dossier_services.ActionForbidden(
            _("Bạn không được xem xét giấy tờ bổ sung của hồ sơ này: việc này dành cho %(who)s.")
            % {"who": workflow.performers_text(REVIEW_RULE)}
        )


def _lock_for_review(dossier_pk, officer, expected_version):
    """Inside a transaction: the dossier locked and checked, and its open supplement request."""
    dossier = Dossier.objects.select_for_update().select_related("procedure").get(pk=dossier_pk)
    _check_reviewer(officer, dossier)
    if expected_version is not None and dossier.version != int(expected_version):
        raise dossier_services.StaleDossier(
            _("Hồ sơ %(code)s vừa được người khác cập nhật; hãy tải lại trang và kiểm tra trước khi thao tác.")
            % {"code": dossier.code}
        )
    request = open_request(dossier)
    if request is None:
        raise dossier_services.ActionNotAllowed(
            _("Hồ sơ %(code)s không còn chờ bổ sung; không thể xem xét giấy tờ gửi trực tuyến.")
            % {"code": dossier.code}
        )
    return dossier, request


def _decide(files, officer, expected_version, allowed_states, change):
    files = list(files)
    if not files:
        raise dossier_services.InvalidInput(_("Chưa chọn tệp nào."))
    dossier_ids = {f.dossier_id for f in files}
    if len(dossier_ids) != 1:
        raise dossier_services.InvalidInput(_("Các tệp phải thuộc cùng một hồ sơ."))
    with transaction.atomic():
        dossier, request = _lock_for_review(dossier_ids.pop(), officer, expected_version)
        locked = list(SupplementFile.objects.select_for_update().filter(pk__in=[f.pk for f in files]).order_by("pk"))
        now = dossier_services.current_time()
        for file in locked:
            if file.request_id != request.pk:
                raise dossier_services.ActionNotAllowed(
                    _("Tệp “%(name)s” không thuộc yêu cầu bổ sung đang chờ của hồ sơ.") % {"name": file}
                )
            if file.state not in allowed_states:
                raise dossier_services.StaleDossier(
                    _(
                        "Tệp “%(name)s” vừa được xem xét hoặc đổi trạng thái (%(state)s); hãy tải lại trang "
                        "và kiểm tra trước khi thao tác."
                    )
                    % {"name": file, "state": file.get_state_display()}
                )
            change(file)
            file.reviewed_by = officer
            file.reviewed_at = now
            file.save(update_fields=["state", "refusal_reason", "reviewed_by", "reviewed_at"])
    return locked


def accept_files(files, officer, *, expected_version=None) -> list[SupplementFile]:
    """The officer accepts `files` (each waiting for review, with its item): the item is no longer missing."""

    def accept(file):
        file.state = FileState.ACCEPTED
        file.refusal_reason = ""

    return _decide(files, officer, expected_version, {FileState.RECEIVED}, accept)


def refuse_file(file, officer, reason, *, expected_version=None) -> SupplementFile:
    """The officer refuses `file`, with the reason the citizen will read (told by `finish_review`).

    A file whose item the citizen never named may be refused too (not accepted: it answers nothing yet)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise dossier_services.InvalidInput(_("Phải ghi rõ lý do không chấp nhận tệp (công dân sẽ đọc lý do này)."))
    limit = SupplementFile._meta.get_field("refusal_reason").max_length
    if len(reason) > limit:
        raise dossier_services.InvalidInput(_("Lý do không chấp nhận dài quá %(max)d ký tự.") % {"max": limit})

    def refuse(f):
        f.state = FileState.REFUSED
        f.refusal_reason = reason

    return _decide([file], officer, expected_version, {FileState.RECEIVED, FileState.AWAITING_ITEM}, refuse)[0]


def _contact(officer) -> str:
    if officer is None:
        return _("bộ phận một cửa")
    contact = f"{officer.full_name}, {officer.title}" if officer.title else officer.full_name
    return f"{contact} ({officer.phone})" if officer.phone else contact


def still_missing_text(request) -> str:
    """Everything the citizen still has to send for `request`, with why, in one line: each item no file
    answers yet (with the reason it was asked for), refused (with the officer's reason) or still being
    looked at, and any refused file the citizen never said the item of."""
    files = list(
        SupplementFile.objects.filter(request=request).exclude(state=FileState.ACCEPTED).order_by("created_at", "id")
    )
    parts = []
    for item in missing_items(request):
        latest = [f for f in files if f.item_id == item.pk]
        pending = [f for f in latest if f.state == FileState.RECEIVED]
        refused = [f.refusal_reason for f in latest if f.state == FileState.REFUSED]
        if pending:
            why = _("đã nhận tệp, đang chờ xem xét")
        elif refused:
            why = _("không chấp nhận: %s") % "; ".join(dict.fromkeys(refused))
        else:
            why = item.reason
        parts.append(f"{item.name} ({why})")
    for file in files:
        if file.item_id is None and file.state == FileState.REFUSED:
            parts.append(
                _("tệp “%(name)s” (không chấp nhận: %(reason)s)") % {"name": file, "reason": file.refusal_reason}
            )
    return "; ".join(parts)


def refusal_values(dossier) -> dict:
    """The refusal message's values from the dossier's latest request: what a template carries at send time."""
    request = dossier.supplement_requests.order_by("-requested_at", "-id").first()
    if request is None:
        return {}
    last = (
        SupplementFile.objects.filter(request=request, state=FileState.REFUSED)
        .select_related("reviewed_by")
        .order_by("-reviewed_at", "-id")
        .first()
    )
    return {
        "missing": still_missing_text(request),
        "officer": _contact(last.reviewed_by if last else None),
        "upload": upload_url(dossier, request) if request.received_at is None else "",
    }


def finish_review(request, officer, *, expected_version=None) -> Review:
    """After the officer's decisions: every item accepted -> the supplement is received (dossiers.services,
    the clock resumes and the citizen gets the new date); else refusals not yet told -> ONE message with
    everything still missing (the rule: tell the citizen once, in writing, everything); else nothing."""
    with transaction.atomic():
        dossier, open_now = _lock_for_review(request.dossier_id, officer, expected_version)
        if open_now.pk != request.pk:
            raise dossier_services.ActionNotAllowed(_("Yêu cầu bổ sung này đã kết thúc; hãy tải lại trang."))
        untold = list(
            SupplementFile.objects.select_for_update()
            .filter(request=request, state=FileState.REFUSED, refusal_told_at=None)
            .order_by("pk")
        )
        now = dossier_services.current_time()
        if not missing_items(request):
            accepted = SupplementFile.objects.filter(request=request, state=FileState.ACCEPTED).count()
            # Everything asked for is here: refusals of extra copies need no message.
            SupplementFile.objects.filter(pk__in=[f.pk for f in untold]).update(refusal_told_at=now)
            dossier_services.receive_supplement(
                dossier,
                officer,
                expected_version=dossier.version,
                internal_note=_("Nhận đủ giấy tờ bổ sung gửi trực tuyến (%(count)d tệp được chấp nhận).")
                % {"count": accepted},
            )
            return Review.RECEIVED
        if not untold:
            return Review.NOTHING
        supplement_files_refused.send(
            sender=SupplementFile,
            dossier=dossier,
            request=request,
            files=untold,
            missing=still_missing_text(request),
            officer=_contact(officer),
        )
        SupplementFile.objects.filter(pk__in=[f.pk for f in untold]).update(refusal_told_at=now)
        return Review.TOLD
