"""Officer logins attacked: password and code guessing, a missing or replayed second factor, idle
sessions, and one admin trying to reset passwords or grant the admin role alone (issue 9.5)."""

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from conftest import otp_login, totp_code
from offices import services
from offices.models import AccountAction, AccountAudit, AccountRequest
from offices.roles import roles_of
from offices.tests.factories import PASSWORD, OfficerFactory

pytestmark = pytest.mark.django_db
HOST = "danang.localhost"


def login(client, username, password=PASSWORD, code="", address="10.1.1.1"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "otp_token": code},
        HTTP_HOST=HOST,
        REMOTE_ADDR=address,
    )


def logged_in(client):
    return client.get("/admin/", HTTP_HOST=HOST).status_code == 200


@pytest.fixture
def admins(reception_desk):
    return [
        OfficerFactory(role="province_admin", department=reception_desk, user__username=name)
        for name in ("quantri.a", "quantri.b")
    ]


def test_password_guessing_locks_the_username(reception):
    statuses = [
        login(Client(), reception.user.username, password=f"doan-{guess}", address=f"10.0.0.{guess}").status_code
        for guess in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks
    # The right password, from yet another address: the username is locked.
    response = login(Client(), reception.user.username, address="10.9.9.9")
    assert response.status_code == 429
    assert "tạm thời bị khoá" in response.content.decode()
    assert "sessionid" not in response.cookies or not response.cookies["sessionid"].value


def test_password_guessing_locks_the_address(reception, specialist):
    statuses = [
        login(Client(), f"khong-co-{guess}", password="doan", address="10.6.6.6").status_code for guess in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    # A real officer's right password from the guessing address: refused.
    assert login(Client(), specialist.user.username, address="10.6.6.6").status_code == 429
    # The same officer from their own address logs in.
    client = Client()
    assert login(client, specialist.user.username, address="10.7.7.7").status_code == 302
    assert logged_in(client)


def test_admin_without_second_factor_cannot_enter_admin(admins):
    admin = admins[0]
    otp_login(Client(), admin.user)  # enrolled: has an authenticator now
    # The password alone is not enough.
    client = Client()
    response = login(client, admin.user.username)
    assert response.status_code == 200 and "xác thực hai bước" in response.content.decode()
    assert not logged_in(client)
    # A session that was not verified by a code (made around the login form) opens nothing.
    stolen = Client()
    stolen.force_login(admin.user)
    response = stolen.get("/admin/auth/user/", HTTP_HOST=HOST)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert stolen.get("/admin/", HTTP_HOST=HOST).status_code == 302  # and it was logged out
    api = Client()
    api.force_login(admin.user)
    response = api.get("/api/v1/dossiers/", HTTP_HOST=HOST)
    assert response.status_code == 403 and response.json()["error"]["code"] == "second_factor_required"
    # A valid API token does not lift the refusal of the unverified session the request also carries.
    token = Token.objects.create(user=admin.user)
    response = api.get("/api/v1/dossiers/", HTTP_HOST=HOST, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 403 and response.json()["error"]["code"] == "second_factor_required"


def test_second_factor_check_reads_a_session_only_where_there_is_one(admins, reception):
    """Without the session cookie a request has no session to be unverified: the check does not load one,
    so the citizens' lookup API and the officers' token calls answer without `Vary: Cookie`. A forged
    cookie is a session that does not exist (anonymous), not a way past the check."""
    token = Token.objects.create(user=reception.user)
    public = Client().get("/api/v1/lookup/" + "x" * 32 + "/", HTTP_HOST=HOST)
    officer = Client().get("/api/v1/dossiers/", HTTP_HOST=HOST, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert public.status_code == 404 and officer.status_code == 200
    for answer in (public, officer):
        assert "Cookie" not in answer.get("Vary", "")
    forged = Client()
    forged.cookies[settings.SESSION_COOKIE_NAME] = "forged" * 6
    assert forged.get("/api/v1/dossiers/", HTTP_HOST=HOST).status_code in (401, 403)
    response = forged.get("/api/v1/dossiers/", HTTP_HOST=HOST, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200  # the token's officer (no second factor needed) is served
    assert "Cookie" in response["Vary"]  # this request carried a cookie: the session was looked at


def test_wrong_or_replayed_totp_is_refused(leader):
    device = otp_login(Client(), leader.user, host=HOST)  # enrol and log in once
    Client().post("/admin/logout/", HTTP_HOST=HOST)
    code = totp_code(device)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    client = Client()
    response = login(client, leader.user.username, code=wrong)
    assert response.status_code == 200 and "không đúng" in response.content.decode()
    assert not logged_in(client)
    # A wrong code counts as a failed login for the lockout, like a wrong password.
    assert AccessAttempt.objects.filter(username=leader.user.username).get().failures_since_start == 1

    device.refresh_from_db()
    device.throttle_reset()  # the wrong code's one-second throttle is not what this test checks
    assert login(client, leader.user.username, code=code).status_code == 302
    assert logged_in(client)
    # The same code again (seen over a shoulder, or replayed from a capture): refused.
    thief = Client()
    response = login(thief, leader.user.username, code=code, address="10.5.5.5")
    assert response.status_code == 200 and "đã được dùng" in response.content.decode()
    assert not logged_in(thief)


def test_a_device_that_synced_its_drift_takes_the_code_the_app_shows(leader):
    """django-otp moves a device's drift when a code is accepted one step off the clock (a phone a
    little fast or slow, or a login at a step's edge): the code of the app's own step still works."""
    from django_otp.oath import TOTP

    device = otp_login(Client(), leader.user, host=HOST)
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, 0).t()
    device.drift, device.last_t = -1, now - 1  # a login verified one step late, as at a step's edge
    device.save()
    client = Client()
    assert login(client, leader.user.username, code=totp_code(device)).status_code == 302
    assert logged_in(client)


def test_leader_must_enrol_before_using_admin(leader, reception):
    client = Client()
    assert login(client, leader.user.username).status_code == 302  # no authenticator yet: password only
    for path in ("/admin/", "/admin/dossiers/dossier/", "/admin/auth/user/"):
        response = client.get(path, HTTP_HOST=HOST)
        assert response.status_code == 302 and response["Location"].startswith("/admin/xac-thuc-hai-buoc/")
    assert client.get("/api/v1/dossiers/", HTTP_HOST=HOST).status_code == 403

    page = client.get("/admin/xac-thuc-hai-buoc/", HTTP_HOST=HOST)
    assert page.status_code == 200 and "<svg" in page.content.decode()
    pending = TOTPDevice.objects.get(user=leader.user, confirmed=False)
    assert pending.config_url.split("secret=")[1].split("&")[0] in page.content.decode()  # the manual key
    wrong = client.post("/admin/xac-thuc-hai-buoc/", {"otp_token": "000000"}, HTTP_HOST=HOST)
    assert wrong.status_code == 200 and not logged_in(client)
    pending.throttle_reset()
    response = client.post("/admin/xac-thuc-hai-buoc/", {"otp_token": totp_code(pending)}, HTTP_HOST=HOST)
    assert response.status_code == 302
    assert logged_in(client)
    assert TOTPDevice.objects.get(user=leader.user).confirmed
    assert AccountAudit.objects.filter(action=AccountAction.SECOND_FACTOR_ENROLLED, target=leader.user).exists()

    # A reception officer may enrol but does not have to.
    counter = Client()
    assert login(counter, reception.user.username).status_code == 302
    assert logged_in(counter)


def test_idle_session_expires_after_8_hours(reception):
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=True):
        assert login(client, reception.user.username).status_code == 302
    with time_machine.travel(start + dt.timedelta(hours=7, minutes=50), tick=True):
        assert logged_in(client)  # working: each request pushes the end of the session on
    with time_machine.travel(start + dt.timedelta(hours=15, minutes=40), tick=True):
        assert logged_in(client)
    with time_machine.travel(start + dt.timedelta(hours=23, minutes=41), tick=True):  # 8 h 1 min idle
        response = client.get("/admin/", HTTP_HOST=HOST)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_reception_cannot_reset_a_peers_password(reception, leader, reception_desk):
    peer = OfficerFactory(role="reception", department=reception_desk, user__username="motcua2.test")
    client = Client()
    assert login(client, reception.user.username).status_code == 302
    response = client.post(
        f"/admin/auth/user/{peer.user.pk}/password/",
        {"password1": "Mat-khau-moi-2026", "password2": "Mat-khau-moi-2026", "new_password1": "Mat-khau-moi-2026",
         "new_password2": "Mat-khau-moi-2026"},
        HTTP_HOST=HOST,
    )  # fmt: skip
    assert response.status_code == 403
    for actor in (reception.user, leader.user):  # the service refuses them too, whatever the page
        with pytest.raises(PermissionDenied):
            services.reset_password(actor, peer.user, "Mat-khau-moi-2026")
    peer.user.refresh_from_db()
    assert peer.user.check_password(PASSWORD)
    assert not AccountAudit.objects.exists()


def test_province_admin_resets_an_officers_password_and_it_is_audited(admins, reception):
    client = Client()
    otp_login(client, admins[0].user, host=HOST)
    response = client.post(
        f"/admin/auth/user/{reception.user.pk}/password/",
        {"new_password1": "Mat-khau-moi-2026", "new_password2": "Mat-khau-moi-2026"},
        HTTP_HOST=HOST,
    )
    assert response.status_code == 302
    reception.user.refresh_from_db()
    assert reception.user.check_password("Mat-khau-moi-2026")
    audit = AccountAudit.objects.get()
    assert (audit.action, audit.actor, audit.target) == (AccountAction.PASSWORD_RESET, admins[0].user, reception.user)


def test_province_admin_cannot_grant_province_admin_alone(admins, specialist):
    from django.contrib.auth.models import Group

    client = Client()
    otp_login(client, admins[0].user, host=HOST)
    admin_group = Group.objects.get(name="Quản trị tỉnh")
    # Through the user form (groups / permissions / superuser in the POST): ignored.
    change = f"/admin/auth/user/{specialist.user.pk}/change/"
    page = client.get(change, HTTP_HOST=HOST).content.decode()
    assert 'name="groups"' not in page and 'name="is_superuser"' not in page
    client.post(
        change,
        {"username": specialist.user.username, "is_active": "on", "is_staff": "on", "groups": [admin_group.pk],
         "is_superuser": "on", "user_permissions": [], "officer-TOTAL_FORMS": "0", "officer-INITIAL_FORMS": "0"},
        HTTP_HOST=HOST,
    )  # fmt: skip
    # Through the role page: only a request.
    response = client.post(
        f"/admin/auth/user/{specialist.user.pk}/vai-tro/",
        {"roles": ["specialist", "province_admin"], "reason": "Thêm người quản trị"},
        HTTP_HOST=HOST,
    )
    assert response.status_code == 302
    # Through the service: refused.
    with pytest.raises(PermissionDenied):
        services.set_roles(admins[0].user, specialist.user, {"province_admin"})
    # Approving one's own request: refused.
    pending = AccountRequest.objects.get(state=AccountRequest.State.PENDING)
    assert (
        client.post(f"/admin/offices/accountrequest/{pending.pk}/xu-ly/", {"approve": "1"}, HTTP_HOST=HOST).status_code
        == 403
    )

    specialist.user.refresh_from_db()
    assert [r.key for r in roles_of(specialist.user)] == ["specialist"]
    assert not specialist.user.is_superuser and not specialist.user.user_permissions.exists()
    assert not AccountAudit.objects.filter(action=AccountAction.ADMIN_ROLE_GRANTED).exists()


def test_province_admin_cannot_reset_another_admins_password_alone(admins):
    a, b = (officer.user for officer in admins)
    client = Client()
    otp_login(client, a, host=HOST)
    response = client.post(
        f"/admin/auth/user/{b.pk}/password/",
        {"password1": "Mat-khau-moi-2026", "password2": "Mat-khau-moi-2026", "new_password1": "Mat-khau-moi-2026",
         "new_password2": "Mat-khau-moi-2026", "reason": "Quên mật khẩu"},
        HTTP_HOST=HOST,
    )  # fmt: skip
    assert response.status_code == 302
    with pytest.raises(PermissionDenied):
        services.reset_password(a, b, "Mat-khau-moi-2026")
    # Nor can A switch B off through the user form.
    client.post(
        f"/admin/auth/user/{b.pk}/change/",
        {"username": "bi-doi-ten", "is_staff": "on", "officer-TOTAL_FORMS": "0", "officer-INITIAL_FORMS": "0"},
        HTTP_HOST=HOST,
    )
    b.refresh_from_db()
    assert b.check_password(PASSWORD) and b.is_active and b.username == "quantri.b"
    pending = AccountRequest.objects.get()
    assert (pending.kind, pending.requested_by, pending.state) == ("reset_admin_password", a, "pending")
    with pytest.raises(PermissionDenied):  # nor can the target approve a reset of their own password
        services.approve_request(b, pending, new_password="Mat-khau-moi-2026")
    b.refresh_from_db()
    assert b.check_password(PASSWORD)


def test_second_admin_approves_role_grant(admins, specialist, reception_desk):
    a, b = (officer.user for officer in admins)
    requester = Client()
    otp_login(requester, a, host=HOST)
    requester.post(
        f"/admin/auth/user/{specialist.user.pk}/vai-tro/",
        {"roles": ["specialist", "province_admin"], "reason": "Thêm người quản trị"},
        HTTP_HOST=HOST,
    )
    pending = AccountRequest.objects.get(state=AccountRequest.State.PENDING)
    approver = Client()
    otp_login(approver, b, host=HOST)
    response = approver.post(f"/admin/offices/accountrequest/{pending.pk}/xu-ly/", {"approve": "1"}, HTTP_HOST=HOST)
    assert response.status_code == 302
    specialist.user.refresh_from_db()
    assert {r.key for r in roles_of(specialist.user)} == {"specialist", "province_admin"}
    audit = AccountAudit.objects.get(action=AccountAction.ADMIN_ROLE_GRANTED)
    assert (audit.actor, audit.approver, audit.target) == (a, b, specialist.user)
    pending.refresh_from_db()
    assert (pending.state, pending.decided_by) == ("approved", b)
    # The audit is append-only in the database.
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        AccountAudit.objects.filter(pk=audit.pk).update(approver_name="ai đó")


def test_national_admin_resets_a_province_admins_password_directly(admins, danang):
    from django_tenants.utils import schema_context

    target = admins[0].user
    with schema_context("public"):
        national = User.objects.create_superuser("quocgia.test", password=PASSWORD)
        client = Client()
        otp_login(client, national, host="localhost")
    response = client.post(
        f"/admin/provinces/province/{danang.pk}/tai-khoan/",
        {"action": "reset_password", "username": target.username, "password1": "Mat-khau-moi-2026",
         "password2": "Mat-khau-moi-2026"},
        HTTP_HOST="localhost",
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get(f"/admin/provinces/province/{danang.pk}/tai-khoan/", HTTP_HOST="localhost").content.decode()
    assert "quantri.a" in page and "Đặt lại mật khẩu" in page
    from django_tenants.utils import tenant_context

    with tenant_context(danang):
        target.refresh_from_db()
        assert target.check_password("Mat-khau-moi-2026")
        audit = AccountAudit.objects.get(action=AccountAction.PASSWORD_RESET)
        assert audit.actor is None and "quocgia.test" in audit.actor_name


def test_account_pages_render_for_the_province_admin(admins, specialist):
    a, b = (officer.user for officer in admins)
    client = Client()
    otp_login(client, a, host=HOST)
    services.request_change(a, AccountRequest.Kind.RESET_ADMIN_PASSWORD, b, "Quên mật khẩu")
    pending = AccountRequest.objects.get()
    pages = {
        f"/admin/auth/user/{specialist.user.pk}/change/": "đổi vai trò",
        f"/admin/auth/user/{specialist.user.pk}/vai-tro/": "Quản trị tỉnh",
        f"/admin/auth/user/{specialist.user.pk}/password/": "Mật khẩu mới",
        f"/admin/auth/user/{b.pk}/password/": "Gửi đề nghị",
        f"/admin/auth/user/{b.pk}/change/": "quantri.b",
        f"/admin/offices/accountrequest/{pending.pk}/xu-ly/": "Quên mật khẩu",
        "/admin/offices/accountrequest/": "duyệt / từ chối",
        "/admin/offices/accountaudit/": "quantri.b",
        "/admin/xac-thuc-hai-buoc/": "Đăng ký điện thoại mới",
    }
    for url, text in pages.items():
        response = client.get(url, HTTP_HOST=HOST)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url
