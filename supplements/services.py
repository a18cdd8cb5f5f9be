"""Every change of a file a citizen sent online (`SupplementFile`) is made here.

Intake (issue 13, the contract the chat, the upload link and the review build on):
- `open_request(dossier)`: the supplement request a file may answer, or None;
- `attach_file(...)`: checks the file (`supplements.checks`), stores it through Django's storage API and
  records it against the open request; once per Zalo message;
- `choose_item(file, item)`, `files_awaiting_item(dossier, follower_user_id)`: the citizen says which
  missing item a file answers when several are missing.

The dossier itself is never changed here: receiving the supplement goes through
`dossiers.services.receive_supplement`.
"""

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from dossiers.models import Dossier, MissingComponent, Status, SupplementRequest

from . import checks
from .checks import FileRefused
from .models import FileState, Source, SupplementFile


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
    return record


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
