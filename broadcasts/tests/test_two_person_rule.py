"""The two-person rule, attacked by one province admin: edit a peer's draft then approve it, save the
whole row from the admin, switch "emergency alone" on by herself, overwrite a newer version, and
change a broadcast's state from outside `broadcasts/services.py`."""

import ast
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from broadcasts import delivery, services
from broadcasts.models import AuditEntry, Broadcast, BroadcastSettings, SettingsAuditEntry, Severity, State
from conftest import otp_login
from offices.tests.factories import OfficerFactory
from zalo.models import Follower

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}


@pytest.fixture
def admins(in_danang):
    """Three province admins of Đà Nẵng: A (the attacker), B (a peer), C (a genuine second person)."""
    return tuple(OfficerFactory(role="province_admin", user__username=f"quantri.{x}") for x in "abc")


def draft(author, **overrides):
    fields = {
        "category": "storm_flood",
        "severity": Severity.EMERGENCY,
        "title": "Bão số 5 đổ bộ",
        "body": "Người dân khu vực ven biển di dời đến nơi an toàn trước 18:00.",
        "expires_at": timezone.now() + timedelta(days=2),
        **overrides,
    }
    return services.create(author, **fields)


def fresh(b):
    return Broadcast.objects.get(pk=b.pk)


def logged_in(officer):
    """A browser session of this officer, logged in through the password and TOTP code."""
    client = Client()
    otp_login(client, officer.user)
    return client


class _FormFields(HTMLParser):
    """What a browser would post back from a page's <form>: inputs, checked boxes, selected options."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.append((a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.data.append((self._select, a.get("value", "")))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.data.append((self._textarea, ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            name, value = self.data[-1]
            if not value and data.startswith("\n"):  # as browsers do: the newline after <textarea>
                data = data[1:]
            self.data[-1] = (name, value + data)


def form_of(client, url):
    page = client.get(url, **HOST)
    assert page.status_code == 200, page.status_code
    parser = _FormFields()
    parser.feed(page.content.decode())
    fields = {}
    for name, value in parser.data:
        fields.setdefault(name, []).append(value)
    return fields


def change_url(b):
    return f"/admin/broadcasts/broadcast/{b.pk}/change/"


# --- the attack: edit a peer's draft, then approve it ---------------------------------------------


def test_an_editor_cannot_approve(admins):
    a, b_admin, c = admins
    # A edits B's draft (the content A wants out), B submits it, A approves: refused.
    b = draft(b_admin)
    services.edit(b, a, expected_version=fresh(b).version, body="Nội dung A tự viết, không ai duyệt.")
    services.submit(b, b_admin)
    with pytest.raises(services.BroadcastError, match="tự duyệt"):
        services.approve(b, a)
    assert fresh(b).state == State.SUBMITTED and fresh(b).approved_by is None
    assert services.approve(b, c).state == State.APPROVED
    assert fresh(b).approved_by == c

    # The editor of a broadcast returned to draft, and whoever submitted it, are excluded too.
    second = draft(b_admin, title="Lũ quét")
    services.submit(second, b_admin)
    services.edit(second, a, expected_version=fresh(second).version, title="Lũ quét (A sửa)")
    services.submit(second, b_admin)
    with pytest.raises(services.BroadcastError, match="tự duyệt"):
        services.approve(second, a)
    third = draft(b_admin, title="Sạt lở")
    services.submit(third, a)  # A submits B's draft unchanged
    with pytest.raises(services.BroadcastError, match="tự duyệt"):
        services.approve(third, a)
    assert services.excluded_approvers(third) == {a.pk, b_admin.pk}
    assert services.approve(third, c).state == State.APPROVED


def test_editing_a_submitted_broadcast_returns_it_to_draft(admins):
    a, b_admin, c = admins
    b = services.submit(draft(b_admin), b_admin)
    services.edit(b, a, expected_version=fresh(b).version, title="Bão số 5 đổi hướng")
    edited = fresh(b)
    assert (edited.state, edited.submitted_at, edited.title) == (State.DRAFT, None, "Bão số 5 đổi hướng")
    actions = [(e.action, e.actor) for e in edited.audit.all()]
    assert actions == [("create", b_admin), ("submit", b_admin), ("return_to_draft", a), ("edit", a)]
    assert "Bão số 5 đổ bộ" in edited.audit.get(action="edit").note  # the old content is in the audit
    with pytest.raises(services.BroadcastError, match="Chờ duyệt|Bản nháp"):
        services.approve(b, c)  # what was submitted is gone: nothing left to approve
    services.submit(b, b_admin)
    assert services.approve(b, c).title == "Bão số 5 đổi hướng"

    # Once approved it is frozen: an edit is refused and changes nothing.
    with pytest.raises(services.BroadcastError, match="không sửa được"):
        services.edit(b, b_admin, expected_version=fresh(b).version, title="Sửa sau khi duyệt")
    assert fresh(b).title == "Bão số 5 đổi hướng" and fresh(b).state == State.APPROVED
    assert not AuditEntry.objects.filter(broadcast=b, action="edit", actor=b_admin).exists()


def test_admin_save_goes_through_the_service_and_is_audited(admins):
    a, b_admin, c = admins
    b = draft(b_admin)
    client = logged_in(a)
    fields = form_of(client, change_url(b))
    carried_version = fields.get("seen_version")
    fields.update(
        title=["Tin A sửa qua trang quản trị"],
        # Raw fields the form does not offer: ignored, never written.
        state=[State.APPROVED],
        approved_by=[str(a.pk)],
        emergency_alone=["on"],
        version=["0"],
        _continue=["1"],
    )
    response = client.post(change_url(b), fields, **HOST)
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = fresh(b)
    assert (saved.title, saved.state, saved.approved_by, saved.emergency_alone) == (
        "Tin A sửa qua trang quản trị",
        State.DRAFT,
        None,
        False,
    )
    entry = AuditEntry.objects.get(broadcast=b, action="edit")
    assert entry.actor == a and "Tin A sửa qua trang quản trị" in entry.note
    assert carried_version == ["0"] and saved.version == 1  # the form named the version it was read at

    # A submitted broadcast saved from the admin goes back to draft; A may not approve it after.
    services.submit(b, b_admin)
    fields = form_of(client, change_url(b))
    fields.update(body=["Nội dung khác"], _continue=["1"])
    assert client.post(change_url(b), fields, **HOST).status_code == 302
    assert fresh(b).state == State.DRAFT
    services.submit(b, b_admin)
    page = client.post(f"/admin/broadcasts/broadcast/{b.pk}/do/approve/", {"version": fresh(b).version}, **HOST)
    assert page.status_code == 302 and fresh(b).state == State.SUBMITTED
    logged_in(c).post(f"/admin/broadcasts/broadcast/{b.pk}/do/approve/", {"version": fresh(b).version}, **HOST)
    assert fresh(b).state == State.APPROVED

    # Approved: the change form offers nothing to save, and a forged POST changes nothing.
    fields = form_of(client, change_url(b))
    assert "title" not in fields and "seen_version" not in fields
    client.post(change_url(b), {**fields, "title": "Sau khi duyệt", "seen_version": fresh(b).version}, **HOST)
    assert fresh(b).title == "Tin A sửa qua trang quản trị" and fresh(b).state == State.APPROVED


def test_a_stale_edit_is_refused(admins):
    a, b_admin, c = admins
    b = draft(b_admin)
    seen_by_a = fresh(b).version
    client = logged_in(a)
    fields = form_of(client, change_url(b))  # A opens the form …
    services.edit(b, b_admin, expected_version=seen_by_a, title="Bản của B")  # … B saves first
    with pytest.raises(services.StaleBroadcast, match="vừa được người khác thay đổi"):
        services.edit(b, a, expected_version=seen_by_a, title="Bản của A")
    fields.update(title=["Bản của A qua trang quản trị"], _continue=["1"])
    page = client.post(change_url(b), fields, follow=True, **HOST)
    assert "vừa được người khác thay đổi" in page.content.decode()
    assert fresh(b).title == "Bản của B"
    assert list(AuditEntry.objects.filter(broadcast=b, action="edit").values_list("actor", flat=True)) == [b_admin.pk]
    with pytest.raises(services.StaleBroadcast):
        services.edit(b, a, expected_version=None, title="Không nói phiên bản")

    # C read the submitted version; A changes it and B resubmits: C's approval of what C saw is refused.
    services.submit(b, b_admin)
    seen_by_c = fresh(b).version
    services.edit(b, a, expected_version=seen_by_c, body="Nội dung C chưa đọc")
    services.submit(b, b_admin)
    with pytest.raises(services.StaleBroadcast):
        services.approve(b, c, expected_version=seen_by_c)
    assert fresh(b).state == State.SUBMITTED


# --- "emergency alone" ----------------------------------------------------------------------------


def _settings_url():
    return f"/admin/broadcasts/broadcastsettings/{BroadcastSettings.current().pk}/change/"


def test_one_admin_cannot_turn_on_emergency_alone(admins):
    a, b_admin, _c = admins
    client = logged_in(a)
    assert (
        client.post("/admin/broadcasts/broadcastsettings/add/", {"rate_per_minute": "4000"}, **HOST).status_code == 302
    )
    fields = form_of(client, _settings_url())
    fields.update(allow_emergency_alone=["on"], rate_per_minute=["3000"], _continue=["1"])
    assert client.post(_settings_url(), fields, **HOST).status_code == 302
    current = BroadcastSettings.current()
    assert (current.allow_emergency_alone, current.rate_per_minute) == (False, 3000)  # the rate may change alone

    emergency = "/admin/broadcasts/broadcastsettings/emergency/{}/"
    version = BroadcastSettings.current().version
    client.post(emergency.format("request"), {"version": version, "reason": "Mùa bão"}, **HOST)
    assert BroadcastSettings.current().emergency_alone_requested_by == a
    refused = client.post(emergency.format("approve"), {"version": version + 1}, follow=True, **HOST)
    assert "không được tự duyệt" in refused.content.decode()
    with pytest.raises(services.BroadcastError, match="không được tự duyệt"):
        services.approve_emergency_alone(a)
    assert not BroadcastSettings.current().allow_emergency_alone

    second = logged_in(b_admin)
    assert "Mùa bão" in second.get(_settings_url(), **HOST).content.decode()
    second.post(emergency.format("approve"), {"version": BroadcastSettings.current().version}, **HOST)
    assert BroadcastSettings.current().allow_emergency_alone
    log = [(e.action, e.actor) for e in SettingsAuditEntry.objects.all()]
    assert log == [
        ("rate_per_minute", a),
        ("request_emergency_alone", a),
        ("approve_emergency_alone", b_admin),
    ]

    # Turning it off is one admin's decision, audited.
    client.post(emergency.format("turn_off"), {"version": BroadcastSettings.current().version}, **HOST)
    assert not BroadcastSettings.current().allow_emergency_alone
    assert SettingsAuditEntry.objects.last().action == "turn_off_emergency_alone"
    assert SettingsAuditEntry.objects.last().actor == a


def test_the_national_operator_sets_emergency_alone_by_command(admins):
    call_command("set_emergency_alone", "on", province="danang", operator="vanhanh.quocgia", reason="Bão lớn")
    assert BroadcastSettings.current().allow_emergency_alone
    entry = SettingsAuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.actor_name, entry.note) == (
        None,
        "national_emergency_alone_on",
        "quốc gia: vanhanh.quocgia",
        "Bão lớn",
    )
    call_command("set_emergency_alone", "off", province="danang", operator="vanhanh.quocgia")
    assert not BroadcastSettings.current().allow_emergency_alone


# --- one writer ---------------------------------------------------------------------------------


def _writes_to_broadcasts(path: Path):
    """Lines where a module changes a broadcast or the settings itself: `x.state = …`,
    `x.allow_emergency_alone = …`, or Broadcast…/BroadcastSettings….update(…), .save(…), …"""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            for t in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(t, ast.Attribute) and t.attr in ("state", "allow_emergency_alone"):
                    found.append(node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("update", "update_or_create", "bulk_update", "save", "delete", "create"):
                root = node.func.value
                while isinstance(root, (ast.Attribute, ast.Call)):
                    root = root.func if isinstance(root, ast.Call) else root.value
                if isinstance(root, ast.Name) and root.id in ("Broadcast", "BroadcastSettings"):
                    found.append(node.lineno)
    return found


def test_delivery_state_changes_go_through_services(admins, zalo):
    # Structurally: no product module but broadcasts/services.py writes a broadcast's state (or the settings).
    base = Path(django_settings.BASE_DIR)
    offenders = {}
    for path in base.rglob("*.py"):
        relative = path.relative_to(base)
        if relative.parts[0] in (".venv", "bench") or "tests" in relative.parts or "migrations" in relative.parts:
            continue
        if relative.as_posix() == "broadcasts/services.py" or "Broadcast" not in path.read_text():
            continue
        if lines := _writes_to_broadcasts(path):
            offenders[relative.as_posix()] = lines
    assert offenders == {}

    # Behaviourally: a delivery's transitions are service actions, audited as the system, each bumping the version.
    a, b_admin, _c = admins
    for i in range(3):
        Follower.objects.create(user_id=f"s-{i}", is_following=True, last_interaction_at=timezone.now())
        zalo.interact(f"s-{i}")
    b = services.approve(services.submit(draft(a), a), b_admin)
    approved_version = fresh(b).version
    for ids in delivery.start(b.pk):
        delivery.send_batch(b.pk, ids)
    sent = fresh(b)
    assert sent.state == State.SENT and sent.version > approved_version
    system = [e.action for e in sent.audit.all() if e.actor is None]
    assert system == ["start", "fan_out", "sent"]
