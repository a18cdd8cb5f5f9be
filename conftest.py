"""Test session setup: the test database gets the public tenant and the demo provinces once.

Creating a schema runs every tenant migration, so it happens once per session (and not at all
with --reuse-db, where the schemas already exist). Tests then run inside a transaction in the
schema they choose, which is rolled back afterwards.
"""

import os

import pytest
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context
from hypothesis import settings as hypothesis_settings

from fakezalo import run_in_thread
from offices.models import Department
from offices.tests.factories import DepartmentFactory, OfficerFactory
from provinces.demo import DEMO_PROVINCES
from provinces.services import create_province, ensure_public_tenant
from testing.zalo import APP
from zalo.models import ZaloAccount

# Property tests run the same examples on every run (a CI run cannot turn red by drawing a new case);
# HYPOTHESIS_PROFILE=explore searches afresh, and a failure it finds becomes an @example.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("explore", derandomize=False, max_examples=1000)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Two provinces are enough for every isolation test; seed_demo's test creates the other two.
TEST_PROVINCES = {spec.slug: spec for spec in DEMO_PROVINCES if spec.slug in ("danang", "camau")}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with schema_context(get_public_schema_name()):
            ensure_public_tenant()
            for spec in TEST_PROVINCES.values():
                create_province(spec)
    yield


@pytest.fixture
def provinces(db):
    from provinces.models import Province

    return {p.slug: p for p in Province.objects.filter(slug__in=TEST_PROVINCES)}


@pytest.fixture
def danang(provinces):
    return provinces["danang"]


@pytest.fixture
def camau(provinces):
    return provinces["camau"]


@pytest.fixture(autouse=True)
def _back_to_public_schema():
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    """A request served in English leaves English active in the thread; the next test starts in Vietnamese."""
    from django.utils import translation

    translation.activate("vi")
    yield
    translation.activate("vi")


@pytest.fixture(autouse=True)
def _fresh_redis(settings):
    """Each test starts with an empty test Redis database (rate-limit counters, cache).

    Database 15 by default (pyproject.toml); 8–14 let parallel checkouts test side by side.
    """
    import redis

    if settings.REDIS_URL.rsplit("/", 1)[-1] not in {str(n) for n in range(8, 16)}:
        pytest.fail("tests must run against a Redis test database 8–15 (see pyproject.toml)")
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    yield


# --- officers of Đà Nẵng, for tests that work inside a province ------------------------------


@pytest.fixture
def in_danang(danang):
    """Run the test body inside Đà Nẵng's schema."""
    with tenant_context(danang):
        yield danang


@pytest.fixture
def reception_desk(in_danang):
    return DepartmentFactory(code="TTHCC", name="Trung tâm Phục vụ hành chính công", is_reception=True)


@pytest.fixture
def ward(in_danang):
    return DepartmentFactory(code="UBND-PHUONG", name="UBND Phường Hải Châu")


@pytest.fixture
def reception(reception_desk):
    return OfficerFactory(role="reception", department=reception_desk, user__username="motcua.test")


@pytest.fixture
def specialist(ward):
    return OfficerFactory(role="specialist", department=ward, user__username="chuyenvien.test")


@pytest.fixture
def leader(ward):
    return OfficerFactory(role="leader", department=ward, user__username="lanhdao.test")


@pytest.fixture
def officers(reception, specialist, leader):
    return {"reception": reception, "specialist": specialist, "leader": leader}


@pytest.fixture
def other_department(in_danang):
    return Department.objects.create(code="SXD", name="Sở Xây dựng")


# --- the local fake Zalo, and Đà Nẵng's OA pointed at it --------------------------------------

TEMPLATES = {  # as Zalo approved it: parameters only, the words are the template's (issue 10.6)
    "tpl-tiep-nhan": {
        "params": ["ma_ho_so", "ten_thu_tuc", "ngay_hen", "tra_cuu"],
        "text": "Hồ sơ <ma_ho_so> (<ten_thu_tuc>). Ngày hẹn: <ngay_hen>. Tra cứu: <tra_cuu>",
        "max_length": {"ma_ho_so": 50, "ten_thu_tuc": 100, "ngay_hen": 20, "tra_cuu": 200},
    }
}


@pytest.fixture(scope="session")
def fake_zalo():
    """The local fake Zalo in a thread; the portal's three base URLs point at it."""
    server, url = run_in_thread(apps=[APP])
    server.fake.templates.update(TEMPLATES)
    yield server
    server.stop()


@pytest.fixture
def zalo(fake_zalo, settings, in_danang):
    from zalo import accounts

    settings.ZALO_OAUTH_BASE_URL = settings.ZALO_OPENAPI_BASE_URL = settings.ZALO_BUSINESS_BASE_URL = fake_zalo.base_url
    settings.ZALO_HTTP_TIMEOUT = 2.0
    fake_zalo.fake.reset(tokens=True)
    fake_zalo.fake.templates.update(TEMPLATES)
    accounts._client.cache_clear()
    ZaloAccount.objects.create(
        **{k: APP[k] for k in ("app_id", "app_secret", "oa_id", "oa_secret_key")},
        refresh_token=APP["refresh_token"],
        template_receipt="tpl-tiep-nhan",
        template_supplement="tpl-tiep-nhan",
        template_result_early="tpl-tiep-nhan",
        template_result_ready="tpl-tiep-nhan",
        template_apology="tpl-tiep-nhan",
        template_new_appointment="tpl-tiep-nhan",
    )
    assert connection.schema_name == "danang"
    yield fake_zalo.fake
    accounts._client.cache_clear()


# --- Logging in through the second factor (issue 9.5) -----------------------------------------
# Province admins, leaders and the national admin cannot use the admin with `force_login`: their
# session must be verified by a TOTP code (offices.middleware.SecondFactorMiddleware). Tests log
# them in through the real login view with a real code instead.


def totp_code(device):
    """The 6-digit code an authenticator app shows for `device` (a django-otp TOTPDevice) now.

    If this time step's code was already used (django-otp refuses a step at or before the device's
    `last_t`, so the same user logging in twice in 30 s), the next step's code, which the device
    accepts within its tolerance of one step; beyond that, waits for the clock to reach it.
    """
    import time

    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    while device.last_t + 1 > totp.t() + device.tolerance:  # the next unused step is not accepted yet
        time.sleep(0.2)
        totp.time = time.time()
    step = max(totp.t(), device.last_t + 1)  # in the device's step space: the clock's step plus its drift
    # The code of that step itself: with the drift left on, a device that had synced (a login
    # verified one step off moves its drift) would be handed the code of another step.
    totp.drift = 0
    totp.time = device.t0 + step * device.step
    return f"{totp.token():0{device.digits}d}"


def otp_login(client, user, password=None, host=None):
    """Log `user` in on `client` through the real admin login view: username, password, TOTP code.

    Call it inside the user's schema (e.g. under the `in_danang` fixture, or `tenant_context`); the
    host defaults to that province's domain (or `localhost` for the national admin). A user without
    an authenticator gets a confirmed one first (as if enrolled). `password` defaults to the test
    factories' password. Asserts the login succeeded and returns the confirmed device.
    """
    from django.db import connection
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from offices.tests.factories import PASSWORD

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    if host is None:
        tenant = getattr(connection, "tenant", None)
        domain = tenant.get_primary_domain() if tenant is not None and tenant.schema_name != "public" else None
        host = domain.domain if domain else "localhost"
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": user.get_username(), "password": password or PASSWORD, "otp_token": totp_code(device)},
        HTTP_HOST=host,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return device


def authenticator_code(province, username):
    """`totp_code` of `username`'s confirmed device in `province`, read in a worker thread.

    For browser tests: Playwright's sync API runs an event loop in the test's thread, where Django
    refuses ORM calls (SynchronousOnlyOperation). Wrap the call in `django_db_blocker.unblock()`
    when the test has no database access of its own.
    """
    from concurrent.futures import ThreadPoolExecutor

    def read():
        from django.db import connection as thread_connection
        from django_otp.plugins.otp_totp.models import TOTPDevice

        try:
            with tenant_context(province):
                return totp_code(TOTPDevice.objects.get(user__username=username, confirmed=True))
        finally:
            thread_connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(read).result()
