"""The forms officers print for a dossier (mẫu phiếu theo Thông tư 01/2018/TT-VPCP).

01 Giấy tiếp nhận hồ sơ và hẹn trả kết quả, 02 Phiếu yêu cầu bổ sung, 03 Phiếu từ chối tiếp nhận,
04 Phiếu xin lỗi và hẹn lại ngày trả (these four carry the citizen's lookup QR code with the dossier
code under it), 05 Phiếu kiểm soát quá trình giải quyết. Read-only: every value comes from the
dossier and its timeline as `dossiers/services.py` wrote them. The register (06) is `registers.py`.
"""

import base64
import io

import qrcode
import qrcode.constants
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from offices.models import Department
from provinces.selectors import current_province

from .links import lookup_url
from .workflow import label_of

FORMS = {
    "receipt": ("dossiers/forms/receipt.html", gettext_lazy("01 Giấy tiếp nhận hồ sơ và hẹn trả kết quả")),
    "supplement": ("dossiers/forms/supplement.html", gettext_lazy("02 Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ")),
    "refusal": ("dossiers/forms/refusal.html", gettext_lazy("03 Phiếu từ chối tiếp nhận giải quyết hồ sơ")),
    "apology": ("dossiers/forms/apology.html", gettext_lazy("04 Phiếu xin lỗi và hẹn lại ngày trả kết quả")),
    "control": ("dossiers/forms/control.html", gettext_lazy("05 Phiếu kiểm soát quá trình giải quyết hồ sơ")),
}

# The forms the citizen takes home: they carry the lookup QR code, with the dossier code under it.
QR_FORMS = frozenset({"receipt", "supplement", "refusal", "apology"})

_PLACE_PREFIXES = ("Thành phố ", "Tỉnh ")


def qr_data_uri(text) -> str:
    """A PNG QR code of `text` as a data URI (about 250 px; the forms print it 34 mm wide)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _format_money(amount: int) -> str:
    return f"{int(amount):,}".replace(",", ".")


def _place_name(province_name: str) -> str:
    """'Thành phố Đà Nẵng' → 'Đà Nẵng', for the 'Đà Nẵng, ngày … tháng … năm …' line."""
    for prefix in _PLACE_PREFIXES:
        if province_name.startswith(prefix):
            return province_name[len(prefix) :]
    return province_name


def _receiving_department(dossier):
    """The reception point the dossier was handed in at (the forms' letterhead and place of return)."""
    if dossier.reception_point_id:
        return dossier.reception_point
    if dossier.received_by_id:
        return dossier.received_by.department
    return Department.objects.filter(is_reception=True, is_active=True).first() or dossier.current_department


def _processing_time(procedure) -> str:
    if procedure.processing_days == 0:
        return _("trong ngày")
    return _("%(days)s ngày làm việc") % {"days": procedure.processing_days}


def _fees(procedure) -> str:
    text = _("%(amount)s đồng") % {"amount": _format_money(procedure.fee)} if procedure.fee else _("Không thu")
    return f"{text} ({procedure.fee_note})" if procedure.fee_note else text


def _receipt(dossier) -> dict:
    if dossier.accepted_at is None:
        raise Http404(_("Hồ sơ %(code)s chưa được tiếp nhận nên chưa có giấy tiếp nhận.") % {"code": dossier.code})
    return {
        "components": list(dossier.components.all()),
        "processing_time": _processing_time(dossier.procedure),
        "fees": _fees(dossier.procedure),
        "issued_at": dossier.accepted_at,
    }


def _supplement(dossier) -> dict:
    request = (
        dossier.supplement_requests.select_related("requested_by__user", "requested_by__department")
        .order_by("-requested_at", "-id")
        .first()
    )
    if request is None:
        raise Http404(_("Hồ sơ %(code)s chưa có yêu cầu bổ sung nào.") % {"code": dossier.code})
    return {
        "supplement": request,
        "items": list(request.items.all()),
        "contact": request.requested_by,
        "issued_at": request.requested_at,
    }


def _refusal(dossier) -> dict:
    """Phiếu từ chối tiếp nhận: the reason is the refusal's citizen note (required by `services.refuse`)."""
    event = (
        dossier.events.filter(action="refuse")
        .select_related("actor__user", "actor__department")
        .order_by("-created_at", "-id")
        .first()
    )
    if event is None:
        raise Http404(_("Hồ sơ %(code)s không bị từ chối tiếp nhận.") % {"code": dossier.code})
    context = {
        "refusal": event,
        "reason": event.citizen_note,
        "officer": event.actor,
        "submitted_at": dossier.registered_at,
        "issued_at": event.created_at,
    }
    if event.actor is not None:
        context["department"] = event.actor.department  # the counter that refused it
    return context


def _apology(dossier) -> dict:
    events = list(dossier.events.select_related("actor__user", "actor__department").order_by("created_at", "id"))
    index = next((i for i in range(len(events) - 1, -1, -1) if events[i].action == "postpone"), None)
    if index is None:
        raise Http404(_("Hồ sơ %(code)s chưa có lần hẹn lại ngày trả kết quả nào.") % {"code": dossier.code})
    event = events[index]
    previous = events[index - 1].appointment_date if index > 0 else None
    return {
        "postponement": event,
        "reason": event.citizen_note,
        "old_date": previous or dossier.original_appointment_date,
        "new_date": event.appointment_date,
        "officer": event.actor,
        "issued_at": event.created_at,
    }


def _route(department, officer) -> str:
    parts = [str(part) for part in (department, officer) if part is not None]
    return " / ".join(parts)


def _control(dossier) -> dict:
    events = dossier.events.select_related(
        "actor__user",
        "from_department",
        "to_department",
        "from_officer__user",
        "to_officer__user",
    ).order_by("created_at", "id")
    rows = [
        {
            "at": event.created_at,
            "label": label_of(event.action),
            "actor": event.actor,
            "source": _route(event.from_department, event.from_officer),
            "target": _route(event.to_department, event.to_officer),
            "grade": event.get_step_grade_display(),
            "note": event.citizen_note,  # never internal_note: this slip travels with the paper dossier
        }
        for event in events
    ]
    return {"rows": rows, "issued_at": timezone.now()}


_BUILDERS = {
    "receipt": _receipt,
    "supplement": _supplement,
    "refusal": _refusal,
    "apology": _apology,
    "control": _control,
}


def form_context(dossier, form_key) -> dict:
    """Everything a form's template shows; Http404 for an unknown form or one that does not apply."""
    if form_key not in FORMS:
        raise Http404(_("Không có mẫu phiếu “%(key)s”.") % {"key": form_key})
    template_name, title = FORMS[form_key]
    province = current_province()
    context = {
        "dossier": dossier,
        "procedure": dossier.procedure,
        "form_key": form_key,
        "form_title": title,
        "template_name": template_name,
        "province_name": province.name,
        "place_name": _place_name(province.name),
        "department": _receiving_department(dossier),
        "printed_at": timezone.now(),
    }
    context.update(_BUILDERS[form_key](dossier))
    if form_key in QR_FORMS:
        context["lookup_url"] = lookup_url(dossier)
        context["qr_code"] = qr_data_uri(context["lookup_url"])
    return context


def render_form(request, dossier, form_key) -> HttpResponse:
    """The printable HTML page of one form (personal data: never cached)."""
    context = form_context(dossier, form_key)
    response = render(request, context["template_name"], context)
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def form_applies(dossier, form_key) -> bool:
    """Whether a form can be printed for this dossier now (the admin shows only those links)."""
    if form_key == "receipt":
        return dossier.accepted_at is not None
    if form_key == "supplement":
        return dossier.supplement_requests.exists()
    if form_key == "refusal":
        return dossier.events.filter(action="refuse").exists()
    if form_key == "apology":
        return dossier.events.filter(action="postpone").exists()
    return form_key in FORMS
