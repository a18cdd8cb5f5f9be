"""Message wording: the province's own (MessageText) or these defaults. Short, in Vietnamese.

A province admin edits the wording, so a text is untrusted input. It is never given to
``str.format``: ``{code:>999999999}`` would allocate a gigabyte and ``{code.__class__}`` reaches
attributes. Instead a text is parsed with ``string.Formatter().parse`` (which only splits it) and
every field must be a bare ``{name}`` from the kind's own list. Texts are checked when saved
(``validate``) and again when rendered (``render``): a bad text already in the database — written
by SQL, say — makes ``render`` fall back to the default wording and report the error, it never
stops the officer's action.
"""

import logging
import string
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dossiers.codes import format_code
from egov.middleware import cached, forget

from .models import Kind, MessageText

logger = logging.getLogger(__name__)

MAX_LENGTH = 1000  # characters of a province's text; a rendered message stays far below Zalo's 2,000

DEFAULTS = {
    Kind.RECEIPT: gettext_lazy(
        "Hồ sơ {code} ({procedure}) đã được tiếp nhận. Ngày hẹn trả kết quả: {date}. Tra cứu: {link}"
    ),
    Kind.SUPPLEMENT: gettext_lazy(
        "Hồ sơ {code} cần bổ sung: {missing}. Liên hệ {officer}. Thời hạn giải quyết tạm dừng đến khi "
        "nhận đủ. Gửi ảnh hoặc tệp PDF qua Zalo này, hoặc tải lên tại: {upload} – Tra cứu: {link}"
    ),
    Kind.RESULT_EARLY: gettext_lazy(
        "Hồ sơ {code} đã có kết quả sớm hơn ngày hẹn {date}. Mời ông/bà đến nhận. Tra cứu: {link}"
    ),
    Kind.RESULT_READY: gettext_lazy(
        "Hồ sơ {code} đã có kết quả. Mời ông/bà đến bộ phận một cửa để nhận. Tra cứu: {link}"
    ),
    Kind.APOLOGY: gettext_lazy(
        "Xin lỗi ông/bà: hồ sơ {code} chưa thể trả đúng hẹn vì {reason}. Ngày hẹn trả mới: {date}. Tra cứu: {link}"
    ),
    Kind.NEW_APPOINTMENT: gettext_lazy(
        "Hồ sơ {code} ({procedure}) đã nhận giấy tờ bổ sung. Ngày hẹn trả kết quả: {date} ({reason}). Tra cứu: {link}"
    ),
    Kind.ZALO_LINK: gettext_lazy(
        "Tài khoản Zalo {account} vừa đăng ký nhận tin về hồ sơ {code}. Nếu không phải ông/bà, vui lòng báo "
        "bộ phận một cửa để gỡ tài khoản này. Tra cứu: {link}"
    ),
    Kind.SUPPLEMENT_REFUSED: gettext_lazy(
        "Hồ sơ {code}: giấy tờ bổ sung ông/bà gửi chưa được chấp nhận. Hồ sơ vẫn còn thiếu: {missing}. "
        "Vui lòng gửi lại qua Zalo này hoặc tải lên tại: {upload} – hoặc liên hệ {officer}. Tra cứu: {link}"
    ),
    Kind.RATING: gettext_lazy(
        "Hồ sơ {code} ({procedure}) đã trả kết quả. Mời ông/bà đánh giá mức độ hài lòng: bấm một nút bên dưới "
        "hoặc trả lời tin này bằng một số từ 1 (rất không hài lòng) đến 5 (rất hài lòng). Góp ý thêm: {link}"
    ),
}

_COMMON = ("code", "procedure", "date", "link")
PLACEHOLDERS = {
    Kind.RECEIPT: _COMMON,
    Kind.SUPPLEMENT: (*_COMMON, "missing", "officer", "upload"),
    Kind.RESULT_EARLY: _COMMON,
    Kind.RESULT_READY: _COMMON,
    Kind.APOLOGY: (*_COMMON, "reason"),
    Kind.NEW_APPOINTMENT: (*_COMMON, "reason"),
    Kind.ZALO_LINK: (*_COMMON, "account"),
    Kind.SUPPLEMENT_REFUSED: (*_COMMON, "missing", "officer", "upload"),
    Kind.RATING: _COMMON,
}


class TextError(ValueError):
    """A province text that cannot be used; ``message`` is for the admin, in the active language."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _allowed_list(kind):
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS[kind])


def _pieces(kind, text):
    """(literal, field name or None) pairs of `text`; TextError unless every field is a known bare name."""
    if len(text) > MAX_LENGTH:
        raise TextError(
            _("Nội dung dài %(length)d ký tự, tối đa %(max)d ký tự.") % {"length": len(text), "max": MAX_LENGTH}
        )
    allowed = PLACEHOLDERS[kind]
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise TextError(
            _(
                "Dấu ngoặc nhọn không khớp. Mỗi chỗ điền phải có dạng {tên}; muốn in dấu { hoặc } thì viết "
                "{{ hoặc }}. Được dùng: %(allowed)s."
            )
            % {"allowed": _allowed_list(kind)}
        ) from None
    pieces = []
    for literal, field, spec, conversion in parsed:
        if field is None:
            pieces.append((literal, None))
            continue
        shown = "{" + field + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
        if field not in allowed:
            raise TextError(
                _("Chỗ điền %(placeholder)s không được dùng cho loại tin này. Được dùng: %(allowed)s.")
                % {"placeholder": shown[:60], "allowed": _allowed_list(kind)}
            )
        if spec or conversion:
            raise TextError(
                _("Chỗ điền %(placeholder)s có định dạng; chỉ được viết {%(name)s}. Được dùng: %(allowed)s.")
                % {"placeholder": shown[:60], "name": field, "allowed": _allowed_list(kind)}
            )
        pieces.append((literal, field))
    return pieces


def validate(kind, text):
    """Raise a ValidationError (Vietnamese, naming the bad placeholder) unless `text` is usable for `kind`."""
    if kind not in PLACEHOLDERS:
        raise ValidationError(_("Loại tin không hợp lệ."), code="invalid_kind")
    try:
        _pieces(kind, text)
    except TextError as exc:
        raise ValidationError(exc.message, code="invalid_text") from None


def render_text(kind, text, values) -> str:
    """`text` with each {name} replaced by str(values[name]) ('' when missing). No format spec is ever applied."""
    out = []
    for literal, field in _pieces(kind, text):
        out.append(literal)
        if field is not None:
            value = values.get(field)
            out.append("" if value is None else str(value))
    return "".join(out).strip()


TEXT_PREFIX = "message-text:"  # + schema name + ":" + kind


def _text_key(kind):
    return f"{TEXT_PREFIX}{connection.schema_name}:{kind}"


def province_text(kind) -> str:
    """The province's own wording of `kind` ("" for none): every intake and action writes a message with
    it, and it changes rarely, so each web process keeps it in the tenant cache (egov/middleware.py),
    dropped everywhere by the receivers below when a text is saved or deleted."""
    return cached(
        _text_key(kind), lambda: MessageText.objects.filter(kind=kind).values_list("text", flat=True).first() or ""
    )


@receiver(pre_save, sender=MessageText, dispatch_uid="notifications.text_rekinded")
def _text_rekinded(sender, instance, raw=False, **kwargs):
    if instance.pk is not None and not raw:  # its kind may change: the old kind's text is gone
        forget([_text_key(k) for k in MessageText.objects.filter(pk=instance.pk).values_list("kind", flat=True)])


@receiver(post_save, sender=MessageText, dispatch_uid="notifications.text_saved")
@receiver(post_delete, sender=MessageText, dispatch_uid="notifications.text_deleted")
def _text_changed(sender, instance, **kwargs):
    forget([_text_key(instance.kind)])


def render_with_error(kind, **values):
    """(text, error): the province's text, or the default one and the reason when the province's is unusable."""
    custom = province_text(kind)
    if custom:
        try:
            return render_text(kind, custom, values), ""
        except TextError as exc:
            logger.error("province text for %s is unusable, default text used: %s", kind, exc.message)
            error = _("Nội dung tin của tỉnh bị lỗi (%(error)s); đã gửi nội dung mặc định.") % {"error": exc.message}
            return render_text(kind, str(DEFAULTS[kind]), values), error
    return render_text(kind, str(DEFAULTS[kind]), values), ""


def render(kind, **values) -> str:
    return render_with_error(kind, **values)[0]


def sample_values(kind):
    """Values of a made-up dossier for the admin's preview."""
    today = timezone.localdate()
    agency, link = "000.00.00.H00", "https://example.gov.vn/tra-cuu/…/"
    try:
        from provinces.selectors import current_province
        from provinces.services import province_url

        province = current_province()
        agency, link = province.agency_code, province_url(province, "/tra-cuu/mau-vi-du/")
    except Exception:  # a preview outside a province still shows the wording
        logger.debug("preview outside a province", exc_info=True)
    return {
        "code": format_code(agency, today, 1),
        "procedure": _("Đăng ký thành lập hộ kinh doanh"),
        "date": f"{today + timedelta(days=5):%d/%m/%Y}",
        "link": link,
        "missing": _("Bản sao giấy tờ tùy thân (chưa có chứng thực)"),
        "officer": _("Nguyễn Thị Bình, chuyên viên (0236 3822 123)"),
        "reason": _("cần xác minh thêm với cơ quan liên quan"),
        "account": "“Nguyễn A.” (…4821)",
        "upload": link.replace("/tra-cuu/mau-vi-du/", "/bo-sung/mau-vi-du/"),
    }


def preview(kind, text):
    """(rendered text, error message or '') of `text` with the sample dossier's values."""
    try:
        return render_text(kind, text, sample_values(kind)), ""
    except TextError as exc:
        return "", exc.message


def broken_texts():
    """[(kind label, error)] of the province's stored texts that cannot be used (shown to its admins)."""
    broken = []
    for kind, text in MessageText.objects.values_list("kind", "text"):
        if kind not in PLACEHOLDERS:
            continue
        try:
            _pieces(kind, text)
        except TextError as exc:
            broken.append((Kind(kind).label, exc.message))
    return broken
