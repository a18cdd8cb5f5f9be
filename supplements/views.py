"""The citizen's upload page (signed link), and the files served to the citizen and to officers.

Files are never public and never rendered as a page of the portal's origin: every answer carries
`X-Content-Type-Options: nosniff` and a sandbox CSP, a PDF is always a download (`attachment`), and only
the types the checks produced (JPEG, PNG, PDF) are ever served.
"""

import io
import re
import unicodedata

from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect, ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods

from dossiers import access, lookup, selectors
from dossiers.lookup import TOKEN_RE as LOOKUP_TOKEN_RE
from dossiers.models import AccessKind, Dossier
from dossiers.text import mask_name
from egov.ratelimit import client_address

from . import checks, links, services
from .checks import PDF, FileRefused
from .models import FileState, Source, SupplementFile
from .uploads import CappedUploadHandler, too_long

# The upload page: its own script and style only, pictures it made itself (blob:), uploads to itself.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# A served file: nothing in it may run, load or be framed, even if a browser were to render it.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'self'"
THUMB_SIDE = 320


def _private(response):
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def _bad_link_page(request, status=404):
    response = render(
        request,
        "supplements/upload_closed.html",
        {
            "message": _(
                "Đường dẫn gửi giấy tờ không đúng, đã hết hạn, hoặc hồ sơ không còn chờ bổ sung. "
                "Vui lòng mở lại đường dẫn trong tin nhắn mới nhất hoặc liên hệ bộ phận một cửa."
            )
        },
        status=status,
    )
    response["Content-Security-Policy"] = PAGE_CSP
    return _private(response)


def _throttled_page(request, exc):
    response = render(request, "supplements/upload_closed.html", {"message": exc.message}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    response["Content-Security-Policy"] = PAGE_CSP
    return _private(response)


# --- the upload page ---------------------------------------------------------------------------------


def _file_facts(record: SupplementFile, file_url: str) -> dict:
    return {
        "id": record.pk,
        "item": record.item_id,
        "state": record.state,
        "state_label": str(record.get_state_display()),
        "kind": "pdf" if record.content_type == PDF else "image",
        "sent_at": record.created_at,
        "refusal_reason": record.refusal_reason if record.state == FileState.REFUSED else "",
        "url": file_url,
    }


def _page_context(token, opened, message="", error=""):
    files = SupplementFile.objects.filter(request=opened.request).exclude(file="").order_by("created_at", "id")
    by_item, unassigned = {}, []
    for record in files:
        facts = _file_facts(record, reverse("supplement-upload-file", args=[token, record.pk]))
        (by_item.setdefault(record.item_id, []) if record.item_id else unassigned).append(facts)
    accepted = {f["item"] for fs in by_item.values() for f in fs if f["state"] == FileState.ACCEPTED}
    items = [
        {"id": i.pk, "name": i.name, "reason": i.reason, "files": by_item.get(i.pk, []), "done": i.pk in accepted}
        for i in opened.request.items.order_by("id")
    ]
    megabytes = settings.SUPPLEMENT_MAX_BYTES / (1024 * 1024)
    return {
        "token": token,
        "dossier": opened.dossier,
        "applicant": mask_name(opened.dossier.applicant_name),
        "supplement": opened.request,
        "items": items,
        "unassigned": unassigned,
        "max_bytes": settings.SUPPLEMENT_MAX_BYTES,
        "max_megabytes": f"{megabytes:.0f}" if megabytes >= 1 else f"{megabytes:.1f}",
        "too_large_message": checks.too_large().message,
        "message": message,
        "error": error,
    }


def _wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


def _refusal(request, token, opened, message, status):
    if _wants_json(request):
        return _private(JsonResponse({"ok": False, "message": message}, status=status))
    response = render(request, "supplements/upload.html", _page_context(token, opened, error=message), status=status)
    response["Content-Security-Policy"] = PAGE_CSP
    return _private(response)


@csrf_exempt  # the size cap's upload handler must be in place before anything reads the body: CSRF is checked below
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def upload_page(request, token):
    """GET: the missing items, a camera and a file button for each. POST: one file for one item."""
    if request.method == "POST":
        if too_long(request):  # refused before a byte of the body is read
            opened = links.open_link(token)
            if opened is None:
                return _bad_link_page(request)
            return _refusal(request, token, opened, checks.too_large().message, 413)
        handler = CappedUploadHandler(request)
        request.upload_handlers = [handler, MemoryFileUploadHandler(request), TemporaryFileUploadHandler(request)]
        request._supplement_cap = handler
    return _upload_page(request, token)


@csrf_protect
@ensure_csrf_cookie
def _upload_page(request, token):
    address = client_address(request)
    try:
        lookup.check_token_attempts(address)
    except lookup.Throttled as exc:
        return _throttled_page(request, exc)
    opened = links.open_link(token)
    if opened is None:
        lookup.record_bad_token(address)
        return _bad_link_page(request)
    if request.method != "POST":
        response = render(request, "supplements/upload.html", _page_context(token, opened))
        response["Content-Security-Policy"] = PAGE_CSP
        return _private(response)

    upload = request.FILES.get("file")
    if request._supplement_cap.too_large:
        return _refusal(request, token, opened, checks.too_large().message, 413)
    if upload is None:
        return _refusal(request, token, opened, _("Chưa chọn tệp để gửi."), 400)
    item = opened.request.items.filter(pk=request.POST.get("item") or 0).first() if request.POST.get("item") else None
    if request.POST.get("item") and item is None:
        return _refusal(request, token, opened, _("Giấy tờ bạn chọn không có trong yêu cầu bổ sung đang chờ."), 400)
    try:
        data = checks.read_capped(upload.chunks())
        record = services.attach_file(
            dossier=opened.dossier, data=data, original_name=upload.name or "", source=Source.LINK, item=item
        )
    except FileRefused as refused:
        return _refusal(request, token, opened, refused.message, 413 if refused.code == "too_large" else 400)
    finally:
        upload.close()
    done = _("Đã nhận tệp %(name)s. Cán bộ sẽ xem xét và báo kết quả cho bạn.") % {
        "name": record.item.name if record.item else record.original_name
    }
    if _wants_json(request):
        facts = _file_facts(record, reverse("supplement-upload-file", args=[token, record.pk]))
        facts["sent_at"] = facts["sent_at"].isoformat()
        return _private(JsonResponse({"ok": True, "message": done, "file": facts}))
    # Post/redirect/get: a reload does not send the file again.
    return redirect(reverse("supplement-upload", args=[token]) + "?da_nhan=1")


# --- serving a file --------------------------------------------------------------------------------------


def _download_name(record: SupplementFile) -> str:
    """An ASCII file name for the download: the item's name, without accents or anything odd."""
    base = record.item.name if record.item_id else "giay-to"
    base = unicodedata.normalize("NFKD", base.replace("đ", "d").replace("Đ", "D"))
    base = re.sub(r"[^A-Za-z0-9]+", "-", base.encode("ascii", "ignore").decode()).strip("-")[:60] or "giay-to"
    extension = {"image/jpeg": ".jpg", "image/png": ".png", PDF: ".pdf"}.get(record.content_type, "")
    return f"{base}-{record.pk}{extension}"


def _thumbnail(record: SupplementFile) -> bytes:
    from PIL import Image

    with record.file.open("rb") as stored, Image.open(stored) as image:
        image.thumbnail((THUMB_SIDE, THUMB_SIDE))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def serve(request, record: SupplementFile) -> HttpResponse:
    """The stored file, as safely as a browser can be told: never sniffed, never scripted, a PDF never shown."""
    if not record.file.name or record.content_type not in ("image/jpeg", "image/png", PDF):
        raise Http404
    thumbnail = request.GET.get("size") == "thumb" and record.content_type != PDF
    if thumbnail:
        response = HttpResponse(_thumbnail(record), content_type="image/jpeg")
    else:
        try:
            stored = record.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(
            stored,
            content_type=record.content_type,
            as_attachment=record.content_type == PDF,
            filename=_download_name(record),
        )
        if record.content_type != PDF:  # an image opened full size: inline, under a harmless name
            response["Content-Disposition"] = f'inline; filename="{_download_name(record)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return _private(response)


@never_cache
@require_GET
def upload_link_file(request, token, pk):
    """A file the citizen sent, opened from their upload page."""
    opened = links.open_link(token)
    if opened is None:
        lookup.record_bad_token(client_address(request))
        raise Http404
    record = SupplementFile.objects.filter(pk=pk, dossier=opened.dossier).select_related("item").first()
    if record is None:
        raise Http404
    return serve(request, record)


def _dossier_by_lookup_token(request, token) -> Dossier | None:
    address = client_address(request)
    lookup.check_token_attempts(address)
    dossier = Dossier.objects.filter(lookup_token=token).first() if LOOKUP_TOKEN_RE.match(token or "") else None
    if dossier is None:
        lookup.record_bad_token(address)
    return dossier


@never_cache
@require_GET
def lookup_file(request, token, pk):
    """A file the citizen sent online, opened from the status page behind their receipt's QR code."""
    try:
        dossier = _dossier_by_lookup_token(request, token)
    except lookup.Throttled:
        raise Http404 from None
    if dossier is None:
        raise Http404
    record = SupplementFile.objects.filter(pk=pk, dossier=dossier).select_related("item").first()
    if record is None:
        raise Http404
    return serve(request, record)


@never_cache
@require_GET
def lookup_upload(request, token):
    """From the status page to a fresh upload link of the dossier's open supplement request."""
    try:
        dossier = _dossier_by_lookup_token(request, token)
    except lookup.Throttled as exc:
        return _throttled_page(request, exc)
    if dossier is None:
        return _bad_link_page(request)
    path = links.upload_path(dossier)
    if not path:
        return _bad_link_page(request)
    return _private(redirect(path))


# --- officers -----------------------------------------------------------------------------------------


def officer_file(request, pk):
    """A file for an officer of this province who may see its dossier (wrapped in the admin's login and
    second factor in urls). Anyone else gets a 404, as if there were no such file. Each opening is audited."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    user = request.user
    if not user.has_perm("dossiers.view_dossier"):
        raise Http404
    record = SupplementFile.objects.filter(pk=pk).select_related("item", "dossier").first()
    if record is None or not selectors.visible_dossiers(user).filter(pk=record.dossier_id).exists():
        raise Http404
    response = serve(request, record)
    detail = f"{record.pk} ({record.get_source_display()}): {record.original_name}"
    access.record(request, AccessKind.FILE, record.dossier, detail)
    return response
