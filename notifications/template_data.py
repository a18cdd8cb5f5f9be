"""What a message carries, within Zalo's limits (issue 10.6).

- A CS text is at most ``CS_TEXT_MAX`` (2,000) characters. When a rendered text is longer, the
  procedure name (then the other free-text values) is shortened with "…"; the dossier code, the
  date and the lookup link are never cut. A text that cannot fit even so is not sent as CS.
- Template and ZNS messages carry ``template_id`` + ``template_data``: the approved template's
  parameters, each filled from one source field and held to its own maximum (`build`). A
  cuttable value is shortened; an uncuttable one (code, date, link) that is too long makes the
  template unusable (`TemplateUnusable`, with the reason), and delivery moves to the next channel.

This is the one place where template parameters are built from a dossier's values.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

CS_TEXT_MAX = 2000
ELLIPSIS = "…"

# Source fields a template parameter may be filled from: (label, may be shortened).
SOURCES = {
    "code": (gettext_lazy("Mã hồ sơ"), False),
    "procedure": (gettext_lazy("Tên thủ tục"), True),
    "date": (gettext_lazy("Ngày hẹn trả"), False),
    "link": (gettext_lazy("Đường dẫn tra cứu"), False),
    "missing": (gettext_lazy("Giấy tờ cần bổ sung"), True),
    "officer": (gettext_lazy("Cán bộ liên hệ"), True),
    "reason": (gettext_lazy("Lý do"), True),
    "account": (gettext_lazy("Tài khoản Zalo"), True),
    "title": (gettext_lazy("Tiêu đề thông báo"), True),
    "content": (gettext_lazy("Nội dung thông báo"), True),
}
# The order in which free text gives way when a CS text is too long.
CUT_ORDER = ("procedure", "missing", "officer", "reason", "account", "content", "title")

_DOSSIER = ("code", "procedure", "date", "link")
KIND_SOURCES = {
    "receipt": _DOSSIER,
    "supplement": (*_DOSSIER, "missing", "officer"),
    "result_early": _DOSSIER,
    "result_ready": _DOSSIER,
    "apology": (*_DOSSIER, "reason"),
    "new_appointment": (*_DOSSIER, "reason"),
    "zalo_link": (*_DOSSIER, "account"),
    "supplement_refused": (*_DOSSIER, "missing", "officer"),
    "rating": _DOSSIER,
    "broadcast": ("title", "content"),
}

# Parameters assumed for a template named only by its id on the OA account (before templates were
# registered with their parameters): (name, source, max length).
LEGACY_PARAMS = (
    ("ma_ho_so", "code", 50),
    ("ten_thu_tuc", "procedure", 100),
    ("ngay_hen", "date", 20),
    ("tra_cuu", "link", 200),
    ("bo_sung", "missing", 400),
    ("lien_he", "officer", 100),
    ("ly_do", "reason", 200),
    ("tai_khoan", "account", 100),
)


@dataclass(frozen=True)
class Param:
    name: str
    source: str
    max_length: int


class TemplateUnusable(ValueError):
    """The template cannot carry this message; the text says why (for the officer)."""


def shorten(value, limit):
    """`value` in at most `limit` characters, ending with "…" when cut."""
    value = str(value or "")
    if len(value) <= limit:
        return value
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    return value[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def legacy_params(kind):
    allowed = KIND_SOURCES.get(kind, ())
    return [Param(name, source, limit) for name, source, limit in LEGACY_PARAMS if source in allowed]


def build(params, values):
    """template_data for `params` (Param-like: name, source, max_length) from `values` (source → value).

    Raises TemplateUnusable when a value that may not be cut (code, date, link) is longer than its
    parameter's maximum."""
    data = {}
    for param in params:
        value = str(values.get(param.source) or "")
        if len(value) > param.max_length:
            if not SOURCES.get(param.source, (None, False))[1]:
                raise TemplateUnusable(
                    _(
                        "Tham số %(name)s (%(source)s) dài %(length)d ký tự, mẫu chỉ cho tối đa %(max)d và giá trị "
                        "này không được cắt; không dùng được mẫu tin."
                    )
                    % {
                        "name": param.name,
                        "source": SOURCES[param.source][0] if param.source in SOURCES else param.source,
                        "length": len(value),
                        "max": param.max_length,
                    }
                )
            value = shorten(value, param.max_length)
        data[param.name] = value
    return data


def fit_text(render, values, limit=CS_TEXT_MAX):
    """`render(**values)` in at most `limit` characters: the free-text values are shortened (the
    procedure name first) until it fits; the code, date and link are never cut. None if it cannot fit."""
    text = render(**values)
    if len(text) <= limit:
        return text
    values = dict(values)
    for source in CUT_ORDER:
        value = str(values.get(source) or "")
        if not value:
            continue
        excess = len(text) - limit
        values[source] = shorten(value, max(len(value) - excess, 1))
        text = render(**values)
        if len(text) <= limit:
            return text
    return None


LEGACY_ACCOUNT_FIELDS = {
    "receipt": "template_receipt",
    "supplement": "template_supplement",
    "result_early": "template_result_early",
    "result_ready": "template_result_ready",
    "apology": "template_apology",
    "new_appointment": "template_new_appointment",
    "zalo_link": "template_zalo_link",
    "broadcast": "template_broadcast",
}


def template_for(kind, channel, account):
    """(template_id, [Param]) of the approved template for this message kind on this channel
    ("template" or "zns"), or (“”, []) when there is none. A registered template (zalo.MessageTemplate)
    wins; otherwise the id named on the OA account, with the parameters the portal always sent."""
    from zalo.models import MessageTemplate

    registered = (
        MessageTemplate.objects.filter(kind=kind, channel=channel, is_active=True)
        .prefetch_related("parameters")
        .first()
    )
    if registered is not None:
        return registered.template_id, [Param(p.name, p.source, p.max_length) for p in registered.parameters.all()]
    template_id = getattr(account, LEGACY_ACCOUNT_FIELDS.get(kind, ""), "") if account is not None else ""
    if not template_id:
        return "", []
    if kind == "broadcast":
        return template_id, [Param("tieu_de", "title", 100), Param("noi_dung", "content", 400)]
    return template_id, legacy_params(kind)


def values_for(row):
    """The source values of an outbox row's message, read from its dossier (and event) at send time."""
    from notifications import reactions
    from zalo.models import DossierLink

    if row.event_id is not None:
        return reactions._values(row.event, row.dossier, row.kind)
    values = reactions._values(None, row.dossier, row.kind)
    link_pk = row.tracking_id.rsplit("-zl-", 1)[-1] if "-zl-" in row.tracking_id else ""
    link = DossierLink.objects.select_related("follower").filter(pk=link_pk).first() if link_pk.isdigit() else None
    if link is not None:
        values["account"] = reactions.account_label(link.follower)
    return values
