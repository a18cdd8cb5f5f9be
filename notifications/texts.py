"""Message wording: the province's own (MessageText) or these defaults. Short, in Vietnamese."""

from django.utils.translation import gettext_lazy as _

from .models import Kind, MessageText

DEFAULTS = {
    Kind.RECEIPT: _("Hồ sơ {code} ({procedure}) đã được tiếp nhận. Ngày hẹn trả kết quả: {date}. Tra cứu: {link}"),
    Kind.SUPPLEMENT: _(
        "Hồ sơ {code} cần bổ sung: {missing}. Liên hệ {officer}. Thời hạn giải quyết tạm dừng đến khi "
        "nhận đủ. Tra cứu: {link}"
    ),
    Kind.RESULT_EARLY: _("Hồ sơ {code} đã có kết quả sớm hơn ngày hẹn {date}. Mời ông/bà đến nhận. Tra cứu: {link}"),
    Kind.RESULT_READY: _("Hồ sơ {code} đã có kết quả. Mời ông/bà đến bộ phận một cửa để nhận. Tra cứu: {link}"),
    Kind.APOLOGY: _(
        "Xin lỗi ông/bà: hồ sơ {code} chưa thể trả đúng hẹn vì {reason}. Ngày hẹn trả mới: {date}. Tra cứu: {link}"
    ),
    Kind.ZALO_LINK: _(
        "Tài khoản Zalo {account} vừa đăng ký nhận tin về hồ sơ {code}. Nếu không phải ông/bà, vui lòng báo "
        "bộ phận một cửa để gỡ tài khoản này. Tra cứu: {link}"
    ),
}


class _Blank(dict):
    def __missing__(self, key):
        return ""


def render(kind, **values) -> str:
    custom = MessageText.objects.filter(kind=kind).values_list("text", flat=True).first()
    template = custom or str(DEFAULTS[kind])
    return template.format_map(_Blank(values)).strip()
