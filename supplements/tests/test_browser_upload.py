"""The upload page on a phone (issue 13), in Debian's Chromium through Playwright: a 390x844 viewport, a
slow 3G-like network and a slowed CPU. A large camera photo is shrunk in the browser before it is sent
(progress shown while sending), an HTML file renamed .jpg gets the Vietnamese refusal on the page, a PDF
goes through, and the page lists what was sent. Screenshots in test-output/browser/upload-*.png.

The portal runs as a real `runserver` process against the test database, on a throwaway province
(schema "tailen") dropped afterwards; its files go to a temporary MEDIA_ROOT.
"""

import http.client
import io
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image

from dossiers.tests.test_browser import CHROMIUM, chromium_page
from provinces.services import ProvinceSpec, create_province
from testing.live import free_port

from .images import HTML, PDF, phone_photo_exif

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

ROOT = settings.BASE_DIR
SCREENSHOTS = ROOT / "test-output" / "browser"
SLUG = "tailen"
HOST = f"{SLUG}.localhost"
PROVINCE = ProvinceSpec("Tỉnh Thử Tải Lên", SLUG, HOST, "000.00.01.H97", None)
PHONE = {"width": 390, "height": 844}
SERVER_START_SECONDS = 30


def _drop_province():
    from provinces.models import Domain, Province

    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{SLUG}" CASCADE')
    Domain.objects.filter(tenant__slug=SLUG).delete()
    Domain.objects.filter(domain=HOST).delete()
    Province.objects.filter(slug=SLUG).delete()


@pytest.fixture(scope="module")
def province(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        _drop_province()
        created, _new = create_province(PROVINCE)
        connection.set_schema_to_public()
    try:
        yield created
    finally:
        with django_db_blocker.unblock():
            _drop_province()


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("upload-media")


def _answers(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/tra-cuu/", headers={"Host": f"{HOST}:{port}"})
        return conn.getresponse().status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def live_url(province, media_root, django_db_blocker):
    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.DATABASE_URL.rsplit("/", 1)[0] + f"/{db_name}",
        "DJANGO_SETTINGS_MODULE": "egov.settings",
        "DEBUG": "1",  # runserver serves the page's script and style
        "SITE_PORT": str(port),
        "MEDIA_ROOT": str(media_root),
        "PYTHONUNBUFFERED": "1",
    }
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_path = SCREENSHOTS / "upload-server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"runserver did not answer within {SERVER_START_SECONDS} s:\n{log_path.read_text()}")
            time.sleep(0.25)
        yield f"http://{HOST}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def waiting_dossier(province, live_url, django_db_blocker):
    """A dossier whose counter asked for two papers (committed, so the server sees it)."""
    from dossiers import services
    from dossiers.tests.factories import receive
    from offices.tests.factories import DepartmentFactory, OfficerFactory
    from supplements import links

    with django_db_blocker.unblock(), tenant_context(province):
        desk = DepartmentFactory(code="TTHCC", name="Trung tâm Phục vụ hành chính công", is_reception=True)
        officer = OfficerFactory(role="reception", department=desk, user__username="motcua.tailen")
        dossier = receive(officer, name="Trần Thị Tải Lên")
        dossier = services.request_supplement(
            dossier,
            officer,
            items=[
                services.MissingItem("Bản sao Căn cước công dân", "Bản chụp bị mờ"),
                services.MissingItem("Tờ khai có chữ ký", "Chưa ký"),
            ],
        )
        path = links.upload_path(dossier)
        items = list(dossier.supplement_requests.get().items.order_by("id").values_list("pk", flat=True))
    connection.set_schema_to_public()
    return dossier, path, items


def _camera_photo(path):
    """What a phone camera hands over: 4000x3000, noisy (so it does not compress away), with EXIF and GPS."""
    noise = Image.effect_noise((4000, 3000), 60).convert("RGB")
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=92, exif=phone_photo_exif().tobytes())
    path.write_bytes(out.getvalue())
    return path


def test_the_upload_page_on_a_phone_over_3g(
    live_url, waiting_dossier, province, media_root, tmp_path, django_db_blocker
):
    from playwright.sync_api import expect

    assert os.path.exists(CHROMIUM)
    dossier, path, (id_card, form) = waiting_dossier
    photo = _camera_photo(tmp_path / "IMG_20261203_0815.jpg")
    original_size = photo.stat().st_size
    assert original_size > 2 * 1024 * 1024
    fake = tmp_path / "anh-giay-to.jpg"
    fake.write_bytes(HTML)
    document = tmp_path / "to-khai.pdf"
    document.write_bytes(PDF)

    with chromium_page(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2) as page:
        cdp = page.context.new_cdp_session(page)
        # A cheap phone on 3G: 750 kbit/s up, 1.5 Mbit/s down, 300 ms latency, a CPU four times slower.
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 300, "downloadThroughput": 1_500_000 / 8, "uploadThroughput": 750_000 / 8},
        )
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        page.goto(live_url + path)
        expect(page.locator("h1")).to_have_text(dossier.code)
        items = page.locator("li.item")
        expect(items).to_have_count(2)
        expect(items.nth(0)).to_contain_text("Bản sao Căn cước công dân")
        expect(items.nth(0)).to_contain_text("Bản chụp bị mờ")
        # A camera button (the back camera) and a file button for each item.
        expect(items.nth(0).locator("input[capture=environment][accept='image/*']")).to_have_count(1)
        expect(items.nth(1).locator("input[accept*='application/pdf']")).to_have_count(1)
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
        page.screenshot(path=SCREENSHOTS / "upload-01-missing-items.png", full_page=True)

        # The camera's photo: shrunk in the browser, then sent with its progress shown.
        first = items.nth(0)
        first.locator("input.pick").nth(1).set_input_files(str(photo))
        expect(first.locator(".progress")).to_be_visible()
        expect(first.locator(".progress .label")).to_contain_text("Đang gửi")
        page.screenshot(path=SCREENSHOTS / "upload-02-progress.png", full_page=True)
        notice = first.locator(".notice")  # the answer under the item's own buttons
        expect(notice).to_have_class("notice ok", timeout=60_000)
        expect(notice).to_contain_text("Đã nhận tệp Bản sao Căn cước công dân")
        expect(first.locator("ul.sent li")).to_have_count(1)
        expect(first.locator(".progress")).to_be_hidden()
        page.screenshot(path=SCREENSHOTS / "upload-03-photo-received.png", full_page=True)

        # An HTML page renamed .jpg: the clear Vietnamese answer, on the page.
        second = items.nth(1)
        second.locator("input.pick").nth(1).set_input_files(str(fake))
        notice = second.locator(".notice")
        expect(notice).to_have_class("notice error", timeout=60_000)
        expect(notice).to_contain_text("Chỉ nhận ảnh chụp (JPG, PNG, WebP) hoặc tệp PDF")
        expect(second.locator("ul.sent li")).to_have_count(0)
        page.screenshot(path=SCREENSHOTS / "upload-04-refused.png", full_page=True)

        # The PDF goes as it is.
        second.locator("input.pick").nth(1).set_input_files(str(document))
        expect(notice).to_have_class("notice ok", timeout=60_000)
        expect(notice).to_contain_text("Tờ khai có chữ ký")
        expect(second.locator("ul.sent li")).to_have_count(1)

        # Coming back later: the page lists what was sent, waiting for the officer.
        page.reload()
        expect(page.locator("ul.sent li")).to_have_count(2)
        expect(page.locator("ul.sent li").first).to_contain_text("Chờ cán bộ xem xét")
        page.screenshot(path=SCREENSHOTS / "upload-05-sent.png", full_page=True)

    from supplements.models import SupplementFile

    with django_db_blocker.unblock(), tenant_context(province):
        files = list(SupplementFile.objects.order_by("id"))
        assert [(f.item_id, f.content_type) for f in files] == [(id_card, "image/jpeg"), (form, "application/pdf")]
        # As the server stored them, in its MEDIA_ROOT.
        shrunk = (media_root / files[0].file.name).read_bytes()
        assert (media_root / files[1].file.name).read_bytes() == PDF
    connection.set_schema_to_public()
    image = Image.open(io.BytesIO(shrunk))
    # Shrunk in the browser (at most 1600 px, a fraction of the camera's bytes), upright, without EXIF/GPS.
    assert max(image.size) <= 1600 and image.size[0] < image.size[1]
    assert len(shrunk) < original_size / 4
    assert dict(image.getexif()) == {} and b"PhoneMaker" not in shrunk
