"""Demo Zalo OA for each demo province, pointed at the local fake Zalo (`make run` starts it).

Writes var/fake-zalo.json so that the fake knows the same apps, secrets, refresh tokens, templates
and each province's webhook URL. On every run the demo token chain restarts from the configured
refresh token, since the fake starts afresh too.
"""

import hashlib
import json
from pathlib import Path

from django.conf import settings

from provinces.services import province_url

from .models import ZaloAccount

CONFIG = Path(settings.BASE_DIR) / "var" / "fake-zalo.json"
# The parameters the portal sends for a template named on the account (notifications.template_data):
# the words are the approved template's own, so the dossier's code and procedure appear once.
TEMPLATE_PARAMS = ["ma_ho_so", "ten_thu_tuc", "ngay_hen", "tra_cuu"]
MAX_LENGTHS = {"ma_ho_so": 50, "ten_thu_tuc": 100, "ngay_hen": 20, "tra_cuu": 200}
TEMPLATE_TEXTS = {
    "tpl-tiep-nhan": "Hồ sơ <ma_ho_so> (<ten_thu_tuc>) đã được tiếp nhận. Ngày hẹn trả kết quả: <ngay_hen>. "
    "Tra cứu: <tra_cuu>",
    "tpl-bo-sung": "Hồ sơ <ma_ho_so> (<ten_thu_tuc>) cần bổ sung giấy tờ. Chi tiết: <tra_cuu>",
    "tpl-ket-qua-som": "Hồ sơ <ma_ho_so> (<ten_thu_tuc>) đã có kết quả sớm hơn ngày hẹn <ngay_hen>. Tra cứu: <tra_cuu>",
    "tpl-ket-qua": "Hồ sơ <ma_ho_so> (<ten_thu_tuc>) đã có kết quả. Mời ông/bà đến nhận. Tra cứu: <tra_cuu>",
    "tpl-xin-loi": "Xin lỗi ông/bà: hồ sơ <ma_ho_so> (<ten_thu_tuc>) được hẹn lại ngày trả <ngay_hen>. "
    "Tra cứu: <tra_cuu>",
    "tpl-hen-lai": "Hồ sơ <ma_ho_so> (<ten_thu_tuc>) đã nhận giấy tờ bổ sung. Ngày hẹn trả kết quả: <ngay_hen>. "
    "Tra cứu: <tra_cuu>",
}
# The ZNS rating template (issue 13.4): Zalo shows five stars under it and sends `user_feedback`.
RATING_TEMPLATE = "tpl-danh-gia"
RATING_PARAMS = (("ma_ho_so", "code", 50), ("ten_thu_tuc", "procedure", 100), ("tra_cuu", "link", 200))
RATING_TEXT = "Hồ sơ <ma_ho_so> (<ten_thu_tuc>) đã trả kết quả. Mời ông/bà đánh giá mức độ hài lòng."
TEMPLATES = {
    "template_receipt": "tpl-tiep-nhan",
    "template_supplement": "tpl-bo-sung",
    "template_result_early": "tpl-ket-qua-som",
    "template_result_ready": "tpl-ket-qua",
    "template_apology": "tpl-xin-loi",
    "template_new_appointment": "tpl-hen-lai",
}


def _secret(slug, what):
    return hashlib.sha256(f"motcua-demo:{slug}:{what}".encode()).hexdigest()[:32]


def seed(province):
    slug = province.slug
    values = {
        "name": f"Một Cửa {province.name}",
        "app_id": f"{int(_secret(slug, 'app'), 16) % 10**15:015d}",
        "oa_id": f"{int(_secret(slug, 'oa'), 16) % 10**15:015d}",
        "app_secret": _secret(slug, "app-secret"),
        "oa_secret_key": _secret(slug, "oa-secret"),
        **TEMPLATES,
    }
    initial_refresh = f"demo-refresh-{_secret(slug, 'refresh')}"
    account, _created = ZaloAccount.objects.get_or_create(oa_id=values["oa_id"], defaults=values)
    _seed_rating_template()
    # The fake starts with this refresh token every time: restart the demo chain from it.
    ZaloAccount.objects.filter(pk=account.pk).update(
        access_token="", refresh_token=initial_refresh, access_token_expires_at=None
    )
    _write_fake_config(
        {
            "app_id": account.app_id,
            "app_secret": account.app_secret,
            "oa_id": account.oa_id,
            "oa_secret_key": account.oa_secret_key,
            "refresh_token": initial_refresh,
            "name": account.name,
            "webhook_url": province_url(province, "/zalo/webhook/"),
        }
    )


def _seed_rating_template():
    from .models import MessageTemplate, TemplateParameter

    template, created = MessageTemplate.objects.get_or_create(
        channel=MessageTemplate.Channel.ZNS,
        kind=MessageTemplate.Kind.RATING,
        is_active=True,
        defaults={"template_id": RATING_TEMPLATE, "name": "Đánh giá mức độ hài lòng"},
    )
    if created:
        for name, source, max_length in RATING_PARAMS:
            TemplateParameter.objects.create(template=template, name=name, source=source, max_length=max_length)


def _write_fake_config(app):
    CONFIG.parent.mkdir(parents=True, exist_ok=True)
    config = json.loads(CONFIG.read_text()) if CONFIG.exists() else {}
    apps = [a for a in config.get("apps", []) if a.get("oa_id") != app["oa_id"]] + [app]
    config["apps"] = apps
    config["templates"] = {
        template_id: {"params": TEMPLATE_PARAMS, "text": TEMPLATE_TEXTS[template_id], "max_length": MAX_LENGTHS}
        for template_id in TEMPLATES.values()
    }
    config["templates"][RATING_TEMPLATE] = {
        "params": [name for name, _source, _max in RATING_PARAMS],
        "text": RATING_TEXT,
        "max_length": {name: max_length for name, _source, max_length in RATING_PARAMS},
        "rating": True,
    }
    CONFIG.write_text(json.dumps(config, ensure_ascii=False, indent=2))
