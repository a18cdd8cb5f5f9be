"""Intake of a citizen's file (issue 13): what is refused before anyone opens it, what is kept, and how
a file is matched to the missing item it answers."""

import io

import pytest
from PIL import Image

from dossiers import services as dossier_services
from dossiers.tests.factories import receive
from supplements import checks, services
from supplements.models import FileState, Source, SupplementFile

from .images import HTML, PDF, jpeg, phone_photo_exif, png, png_claiming

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def stored_files(media):
    return [p for p in media.rglob("*") if p.is_file()]


@pytest.fixture
def dossier(reception):
    return receive(reception)


def ask(dossier, officer, *names):
    return dossier_services.request_supplement(
        dossier, officer, items=[dossier_services.MissingItem(name, "Thiếu") for name in names]
    )


def attach(dossier, data, name="anh.jpg", **kwargs):
    return services.attach_file(dossier=dossier, data=data, original_name=name, source=Source.LINK, **kwargs)


# --- refusals ---------------------------------------------------------------------------------------


def test_a_30_mb_file_is_refused_while_it_is_read_not_after(reception, dossier, media):
    ask(dossier, reception, "Tờ khai")
    handed = []

    def thirty_megabytes():
        for _ in range(30 * 16):
            handed.append(64 * 1024)
            yield b"\xff" * (64 * 1024)

    with pytest.raises(checks.FileRefused) as refused:
        checks.read_capped(thirty_megabytes())
    assert "tối đa 10 MB" in refused.value.message
    # Reading stopped at the first chunk past 10 MB: never 30 MB.
    assert sum(handed) <= 10 * 1024 * 1024 + 64 * 1024
    with pytest.raises(checks.FileRefused, match="tối đa 10 MB"):
        attach(dossier, b"\xff\xd8\xff" + b"\x00" * (30 * 1024 * 1024))
    assert not SupplementFile.objects.exists()
    assert stored_files(media) == []


def test_the_cap_is_a_setting(settings, reception, dossier):
    ask(dossier, reception, "Tờ khai")
    settings.SUPPLEMENT_MAX_BYTES = len(PDF) - 1
    with pytest.raises(checks.FileRefused, match="tối đa"):
        attach(dossier, PDF, "to-khai.pdf")
    settings.SUPPLEMENT_MAX_BYTES = len(PDF)
    assert attach(dossier, PDF, "to-khai.pdf").size == len(PDF)


@pytest.mark.parametrize("name", ["anh.jpg", "to-khai.pdf", "scan.png"])
def test_html_renamed_as_an_image_or_pdf_is_refused_by_its_content(reception, dossier, media, name):
    ask(dossier, reception, "Tờ khai")
    with pytest.raises(checks.FileRefused, match="Chỉ nhận ảnh chụp"):
        attach(dossier, HTML, name)
    assert not SupplementFile.objects.exists()
    assert stored_files(media) == []


def test_a_real_image_with_a_wrong_name_is_judged_by_its_content(reception, dossier):
    ask(dossier, reception, "Tờ khai")
    assert attach(dossier, png(), "giay-to.pdf").content_type == "image/png"


def test_a_decompression_bomb_png_is_refused_not_decoded(reception, dossier, media):
    ask(dossier, reception, "Tờ khai")
    bomb = png_claiming(100_000, 100_000)  # 10 gigapixels in a few hundred bytes
    assert len(bomb) < 2000
    with pytest.raises(checks.FileRefused, match="điểm ảnh quá lớn"):
        attach(dossier, bomb, "anh.png")
    assert stored_files(media) == []


def test_an_image_past_the_pixel_setting_is_refused_before_pillow_would_warn(settings, reception, dossier):
    """Under Pillow's own limit (89 megapixels) but over the portal's setting: refused on the header."""
    ask(dossier, reception, "Tờ khai")
    settings.SUPPLEMENT_MAX_PIXELS = 1_000_000
    with pytest.raises(checks.FileRefused, match="điểm ảnh quá lớn"):
        attach(dossier, png_claiming(2000, 2000), "anh.png")


def test_a_truncated_image_is_refused_as_damaged(reception, dossier):
    ask(dossier, reception, "Tờ khai")
    with pytest.raises(checks.FileRefused, match="Không đọc được tệp"):
        attach(dossier, jpeg()[:200])
    with pytest.raises(checks.FileRefused, match="Không đọc được tệp"):
        attach(dossier, PDF[:-8], "a.pdf")  # cut before %%EOF: not finished uploading


def test_a_file_when_no_supplement_is_open_is_refused(reception, dossier, media):
    with pytest.raises(services.NoOpenRequest) as refused:
        attach(dossier, jpeg())
    assert "không có yêu cầu bổ sung" in refused.value.message
    ask(dossier, reception, "Tờ khai")
    attach(dossier, jpeg())
    dossier_services.receive_supplement(dossier, reception)  # the paper came to the counter meanwhile
    with pytest.raises(services.NoOpenRequest):
        attach(dossier, jpeg())
    assert SupplementFile.objects.count() == 1


def test_a_request_takes_a_bounded_number_of_files(settings, reception, dossier):
    ask(dossier, reception, "Tờ khai")
    settings.SUPPLEMENT_MAX_FILES = 2
    attach(dossier, jpeg())
    attach(dossier, jpeg())
    with pytest.raises(checks.FileRefused, match="số tệp tối đa"):
        attach(dossier, jpeg())
    assert SupplementFile.objects.count() == 2


# --- what is kept -----------------------------------------------------------------------------------


def test_exif_and_gps_are_stripped_and_the_photo_is_upright(reception, dossier):
    ask(dossier, reception, "Tờ khai")
    original = jpeg(size=(40, 20), exif=phone_photo_exif())
    assert b"PhoneMaker" in original and Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)

    record = attach(dossier, original, "IMG_0001.jpg")

    with record.file.open("rb") as f:  # read back from the storage, as an officer would get it
        stored = f.read()
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and record.content_type == "image/jpeg"
    assert dict(image.getexif()) == {}
    assert image.getexif().get_ifd(0x8825) == {}
    assert b"Exif" not in stored and b"PhoneMaker" not in stored
    assert image.size == (20, 40)  # orientation 6 applied: the pixels are upright, no tag needed
    assert record.size == len(stored)
    import hashlib

    assert record.sha256 == hashlib.sha256(stored).hexdigest()


def test_a_webp_becomes_a_jpeg(reception, dossier):
    ask(dossier, reception, "Tờ khai")
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(out, "WEBP")
    record = attach(dossier, out.getvalue(), "a.webp")
    assert record.content_type == "image/jpeg" and record.file.name.endswith(".jpg")


def test_a_pdf_is_kept_byte_for_byte(reception, dossier):
    ask(dossier, reception, "Tờ khai")
    record = attach(dossier, PDF, "Tờ khai có chữ ký.pdf")
    with record.file.open("rb") as f:
        assert f.read() == PDF
    assert record.content_type == "application/pdf"
    assert record.original_name == "Tờ khai có chữ ký.pdf"
    # Nothing of the citizen's name in the stored name: random, under the province's own folder.
    assert record.file.name.startswith("supplements/danang/") and "khai" not in record.file.name


# --- which item a file answers ------------------------------------------------------------------------


def test_with_one_item_missing_the_file_answers_it(reception, dossier):
    ask(dossier, reception, "Tờ khai")
    record = attach(dossier, jpeg())
    assert record.state == FileState.RECEIVED and record.item.name == "Tờ khai"


def test_with_several_missing_the_file_waits_for_the_citizen_to_choose(reception, dossier):
    request = ask(dossier, reception, "Tờ khai", "Giấy chứng sinh").supplement_requests.get()
    record = services.attach_file(
        dossier=dossier, data=jpeg(), original_name="a.jpg", source=Source.CHAT, follower_user_id="u1"
    )
    assert record.state == FileState.AWAITING_ITEM and record.item is None
    assert services.files_awaiting_item(dossier, "u1") == [record]
    assert services.files_awaiting_item(dossier, "someone-else") == []

    birth = request.items.get(name="Giấy chứng sinh")
    chosen = services.choose_item(record, birth)
    assert chosen.state == FileState.RECEIVED and chosen.item == birth
    assert services.files_awaiting_item(dossier, "u1") == []


def test_the_upload_page_names_the_item(reception, dossier):
    request = ask(dossier, reception, "Tờ khai", "Giấy chứng sinh").supplement_requests.get()
    item = request.items.get(name="Tờ khai")
    record = attach(dossier, jpeg(), item=item)
    assert record.state == FileState.RECEIVED and record.item == item


def test_an_item_of_another_dossier_is_refused(reception, dossier):
    ask(dossier, reception, "Tờ khai")
    other = ask(receive(reception), reception, "Tờ khai").supplement_requests.get()
    with pytest.raises(checks.FileRefused, match="không có trong yêu cầu bổ sung"):
        attach(dossier, jpeg(), item=other.items.get())
    record = attach(dossier, jpeg())
    with pytest.raises(checks.FileRefused, match="không có trong yêu cầu bổ sung"):
        services.choose_item(record, other.items.get())


def test_the_same_zalo_message_is_recorded_once(reception, dossier, media):
    ask(dossier, reception, "Tờ khai")
    first = attach(dossier, jpeg(), zalo_message_id="msg-1")
    again = attach(dossier, jpeg(color="blue"), zalo_message_id="msg-1")
    assert again.pk == first.pk
    assert SupplementFile.objects.count() == 1
    assert len(stored_files(media)) == 1


# --- retention ----------------------------------------------------------------------------------------


def test_files_past_the_retention_are_deleted_and_orphans_too(settings, reception, dossier, media):
    import os
    from datetime import timedelta

    from django.utils import timezone

    ask(dossier, reception, "Tờ khai")
    old = attach(dossier, jpeg())
    recent = attach(dossier, PDF, "a.pdf")
    SupplementFile.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    orphan = media / "supplements" / "danang" / "orphan.jpg"
    orphan.write_bytes(b"x")
    two_days_ago = (timezone.now() - timedelta(days=2)).timestamp()
    os.utime(orphan, (two_days_ago, two_days_ago))
    settings.SUPPLEMENT_RETENTION_DAYS = 365

    from supplements.tasks import delete_expired_files

    assert delete_expired_files() == 2
    old.refresh_from_db()
    assert old.file.name == "" and old.sha256  # the facts stay, the file is gone
    assert sorted(p.name for p in stored_files(media)) == [os.path.basename(recent.file.name)]
    assert delete_expired_files() == 0
