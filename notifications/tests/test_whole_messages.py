"""Messages that arrive whole (issue 10.6): a long procedure name, a repeated prefix, rendered text
stuffed into a template, a template registered wrong, a value a template cannot hold.

Each test reads what the citizen's phone shows at the fake Zalo (it keeps every accepted message).
"""

import pytest
from django.test import Client
from django.utils import timezone

from conftest import TEMPLATES
from dossiers import services
from dossiers.links import lookup_url
from dossiers.tests.factories import ProcedureFactory, receive
from notifications import delivery
from notifications.models import Channel, Kind, MessageText, Notification, State
from notifications.template_data import CS_TEXT_MAX
from zalo.models import DossierLink, Follower, MessageTemplate, TemplateParameter

pytestmark = pytest.mark.django_db

HOST = {"HTTP_HOST": "danang.localhost"}
ADD_URL = "/admin/zalo/messagetemplate/add/"
# The longest name a procedure can have (Procedure.name holds 500 characters).
LONG_NAME = ("Cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất " * 6)[:500]
LIMITS = TEMPLATES["tpl-tiep-nhan"]["max_length"]


def _follower(dossier, user_id, *, wrote_recently):
    follower = Follower.objects.create(
        user_id=user_id, is_following=True, last_interaction_at=timezone.now() if wrote_recently else None
    )
    DossierLink.objects.create(dossier=dossier, follower=follower)
    return follower


def _send(row):
    outcome = delivery.send(row.pk)
    row.refresh_from_db()
    return outcome


def test_long_procedure_name_never_cuts_the_link(zalo, reception):
    procedure = ProcedureFactory(name=LONG_NAME)

    # CS: a supplement request with long missing items makes the text far longer than Zalo's 2,000.
    by_cs = receive(reception, procedure=procedure, phone="")
    _follower(by_cs, "u-6001", wrote_recently=True)
    zalo.follow("u-6001")
    zalo.interact("u-6001")
    # The province's wording names the procedure too (notifications.MessageText).
    MessageText.objects.create(
        kind=Kind.SUPPLEMENT, text="Hồ sơ {code} ({procedure}) cần bổ sung: {missing}. Tra cứu: {link}"
    )
    items = [services.MissingItem(f"Giấy tờ số {n} " + "bản sao có chứng thực " * 20, "Thiếu dấu") for n in range(3)]
    services.request_supplement(by_cs, reception, items=items)
    row = Notification.objects.get(dossier=by_cs, kind=Kind.SUPPLEMENT)
    assert _send(row).state == State.SENT and row.channel == Channel.CS
    shown = zalo.find_messages(recipient="u-6001", kind="cs")[-1]["text"]
    assert len(shown) <= CS_TEXT_MAX
    assert lookup_url(by_cs) in shown and by_cs.code in shown  # the whole link, token included
    assert LONG_NAME[:40] in shown and LONG_NAME not in shown and "…" in shown  # the name gave way
    assert all(f"{item.name.strip()} ({item.reason})" in shown for item in items)  # what to bring stays whole

    # Template by user id, then ZNS by phone: every parameter within its maximum, the link whole.
    by_template = receive(reception, procedure=procedure, phone="")
    _follower(by_template, "u-6002", wrote_recently=False)
    zalo.follow("u-6002")
    by_zns = receive(reception, procedure=procedure)
    for dossier, channel, recipient in (
        (by_template, Channel.TEMPLATE, "u-6002"),
        (by_zns, Channel.ZNS, "84905123456"),
    ):
        row = Notification.objects.get(dossier=dossier, kind=Kind.RECEIPT)
        assert _send(row).state == State.SENT and row.channel == channel, row.last_error
        message = [m for m in zalo.find_messages(recipient=recipient) if m["template_data"]["ma_ho_so"] == dossier.code]
        data = message[-1]["template_data"]
        assert all(len(data[name]) <= limit for name, limit in LIMITS.items())
        assert data["tra_cuu"] == lookup_url(dossier) and data["ngay_hen"] == f"{dossier.appointment_date:%d/%m/%Y}"
        assert data["ten_thu_tuc"].endswith("…") and LONG_NAME.startswith(data["ten_thu_tuc"][:-1])
        assert lookup_url(dossier) in message[-1]["text"]  # on the phone


def test_the_dossier_prefix_appears_once(zalo, reception):
    from zalo.demo import MAX_LENGTHS, TEMPLATE_PARAMS, TEMPLATE_TEXTS

    # The province's approved template holds the "Hồ sơ <code> (<procedure>)" words itself; and a
    # template shown as its bare parameters (one line each).
    zalo.templates["tpl-tiep-nhan"] = {
        "params": TEMPLATE_PARAMS,
        "text": TEMPLATE_TEXTS["tpl-tiep-nhan"],
        "max_length": MAX_LENGTHS,
    }
    zalo.templates["tpl-bare"] = {"params": TEMPLATE_PARAMS}
    shown = []
    cs = receive(reception, phone="")
    _follower(cs, "u-6101", wrote_recently=True)
    zalo.interact("u-6101")
    tpl = receive(reception, phone="")
    _follower(tpl, "u-6102", wrote_recently=False)
    zalo.follow("u-6102")
    zns = receive(reception)
    for dossier, recipient in ((cs, "u-6101"), (tpl, "u-6102"), (zns, "84905123456")):
        row = Notification.objects.get(dossier=dossier, kind=Kind.RECEIPT)
        assert _send(row).state == State.SENT, row.last_error
        shown.append((dossier, zalo.find_messages(recipient=recipient)[-1]["text"]))
    bare = receive(reception)
    from zalo.models import ZaloAccount

    ZaloAccount.objects.update(template_receipt="tpl-bare")
    row = Notification.objects.get(dossier=bare, kind=Kind.RECEIPT)
    assert _send(row).state == State.SENT, row.last_error
    shown.append((bare, zalo.find_messages(recipient="84905123456")[-1]["text"]))
    for dossier, text in shown:
        assert text.count(dossier.code) == 1, text
        assert text.count(dossier.procedure.name) == 1, text
        assert text.lower().count("hồ sơ") <= 1, text


def test_template_messages_send_template_data_not_text(zalo, reception):
    template = MessageTemplate.objects.create(channel="zns", kind="receipt", template_id="zns-tn-01")
    for name, source, limit in (("so_ho_so", "code", 40), ("thu_tuc", "procedure", 60), ("hen", "date", 10)):
        TemplateParameter.objects.create(template=template, name=name, source=source, max_length=limit)
    TemplateParameter.objects.create(template=template, name="xem", source="link", max_length=200)
    zalo.templates["zns-tn-01"] = {
        "params": ["so_ho_so", "thu_tuc", "hen", "xem"],
        "max_length": {"so_ho_so": 40, "thu_tuc": 60, "hen": 10, "xem": 200},
    }
    dossier = receive(reception)
    row = Notification.objects.get(dossier=dossier, kind=Kind.RECEIPT)
    assert _send(row).state == State.SENT and row.channel == Channel.ZNS, row.last_error
    message = zalo.find_messages(tracking_id=row.tracking_id)[-1]
    assert message["template_id"] == "zns-tn-01"
    assert message["template_data"] == {
        "so_ho_so": dossier.code,
        "thu_tuc": dossier.procedure.name[:60],
        "hen": f"{dossier.appointment_date:%d/%m/%Y}",
        "xem": lookup_url(dossier),
    }
    assert row.text not in str(message["template_data"])  # parameters, never our rendered text


@pytest.fixture
def province_admin(in_danang):
    from conftest import otp_login
    from offices.tests.factories import OfficerFactory

    client = Client()
    otp_login(client, OfficerFactory(role="province_admin").user)
    return client


def _form(kind, channel, template_id, params):
    data = {
        "kind": kind,
        "channel": channel,
        "template_id": template_id,
        "is_active": "on",
        "parameters-TOTAL_FORMS": str(len(params)),
        "parameters-INITIAL_FORMS": "0",
        "parameters-MIN_NUM_FORMS": "0",
        "parameters-MAX_NUM_FORMS": "1000",
    }
    for i, (name, source, limit) in enumerate(params):
        data.update(
            {f"parameters-{i}-name": name, f"parameters-{i}-source": source, f"parameters-{i}-max_length": limit}
        )
    return data


def test_template_registration_mismatch_is_caught_when_saved(province_admin, zalo):
    # What Zalo approved (its /template/info/v2 answers these parameters and maximums).
    zalo.templates["t-1"] = {
        "params": ["ma", "thu_tuc", "link", "thieu"],
        "max_length": {"ma": 30, "thu_tuc": 80, "link": 200, "thieu": 200},
    }
    good = [("ma", "code", "30"), ("thu_tuc", "procedure", "80"), ("link", "link", "200")]
    attacks = {
        "unknown source": (
            "receipt",
            [*good, ("so_cccd", "id_number", "12")],
            "Hãy chọn một lựa chọn hợp lệ",  # Django's own wording for a value outside the list
        ),
        "duplicate parameter": ("receipt", [*good, ("ma", "date", "10")], "Tham số ma được khai báo hai lần."),
        "source the kind does not offer": (
            "receipt",
            [*good, ("thieu", "missing", "200")],
            "Tham số thieu lấy từ “Giấy tờ cần bổ sung”, nhưng loại tin này không có trường đó.",
        ),
        "no parameter": ("receipt", [], "Mẫu tin phải có ít nhất một tham số."),
        "zero length": ("receipt", [("ma", "code", "0")], "Tham số ma phải dài tối đa ít nhất 1 ký tự."),
        # Checked against the template Zalo approved:
        "a parameter Zalo requires left out": ("supplement", good, "Mẫu t-1 tại Zalo bắt buộc có tham số: thieu."),
        "a parameter Zalo does not have": (
            "supplement",
            [*good, ("thieu", "missing", "200"), ("ghi_chu", "officer", "50")],
            "Mẫu t-1 tại Zalo không có tham số ghi_chu.",
        ),
        "a maximum above Zalo's": (
            "supplement",
            [*good, ("thieu", "missing", "500")],
            "Tham số thieu: mẫu tại Zalo chỉ cho tối đa 200 ký tự, không phải 500.",
        ),
        "a template Zalo does not have": ("receipt", good, "Zalo không có mẫu tin t-khong-co"),
    }
    for what, (kind, params, error) in attacks.items():
        template_id = "t-khong-co" if what == "a template Zalo does not have" else "t-1"
        response = province_admin.post(ADD_URL, _form(kind, "zns", template_id, params), **HOST)
        assert response.status_code == 200, what
        assert error in response.content.decode(), what
        assert not MessageTemplate.objects.exists() and not TemplateParameter.objects.exists(), what
    response = province_admin.post(
        ADD_URL, _form("supplement", "zns", "t-1", [*good, ("thieu", "missing", "200")]), **HOST
    )
    assert response.status_code == 302
    saved = MessageTemplate.objects.get()
    assert [p.name for p in saved.parameters.all()] == ["ma", "thu_tuc", "link", "thieu"]


def test_uncuttable_parameter_too_long_falls_to_next_channel_with_reason(zalo, reception):
    # A template whose link parameter holds 20 characters: the lookup link may not be cut.
    template = MessageTemplate.objects.create(channel="template", kind="receipt", template_id="tpl-ngan")
    TemplateParameter.objects.create(template=template, name="ma", source="code", max_length=50)
    TemplateParameter.objects.create(template=template, name="xem", source="link", max_length=20)
    zalo.templates["tpl-ngan"] = {"params": ["ma", "xem"]}
    dossier = receive(reception)
    _follower(dossier, "u-6301", wrote_recently=False)
    zalo.follow("u-6301")
    row = Notification.objects.get(dossier=dossier, kind=Kind.RECEIPT)
    assert _send(row).state == State.SENT
    assert row.channel == Channel.ZNS  # the next channel (the account's ZNS template)
    assert zalo.find_messages(recipient="u-6301") == []  # nothing cut went to the Zalo account
    skipped = row.attempt_log.get(outcome="skipped")
    assert skipped.channel == Channel.TEMPLATE
    assert "Tham số xem (Đường dẫn tra cứu)" in skipped.error and "không được cắt" in skipped.error
    assert lookup_url(dossier) in zalo.find_messages(tracking_id=row.tracking_id)[-1]["text"]

    # No other channel: the row says why, for the officer.
    alone = receive(reception, phone="")
    _follower(alone, "u-6302", wrote_recently=False)
    zalo.follow("u-6302")
    row = Notification.objects.get(dossier=alone, kind=Kind.RECEIPT)
    assert _send(row).state == State.NO_CHANNEL
    assert "không được cắt" in row.last_error
