import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from provinces.models import Domain, Province
from provinces.services import ProvinceSpec, create_province

pytestmark = pytest.mark.django_db

GOOD = ProvinceSpec("Tỉnh Thử Nghiệm", "thunghiem", "thunghiem.localhost", "000.00.01.H99", 48)


def schema_exists(name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def messages_of(exc_info):
    return " ".join(exc_info.value.messages)


def test_creates_schema_domain_and_migrated_tables():
    province, created = create_province(GOOD)
    assert created
    assert schema_exists("thunghiem")
    assert Domain.objects.get(domain="thunghiem.localhost").tenant == province
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'thunghiem' "
            "AND table_name IN ('offices_department', 'auth_user', 'django_session')"
        )
        assert cursor.fetchone()[0] == 3


def test_same_input_twice_changes_nothing(danang):
    spec = ProvinceSpec("Thành phố Đà Nẵng", "danang", "danang.localhost", "000.00.01.H15", 48)
    before = (Province.objects.count(), Domain.objects.count())
    province, created = create_province(spec)
    assert (province, created) == (danang, False)
    assert (Province.objects.count(), Domain.objects.count()) == before


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (ProvinceSpec("Tỉnh Khác", "danang", "khac.localhost", "000.00.01.H98"), "Mã tỉnh “danang” đã tồn tại"),
        (ProvinceSpec("Tỉnh Thử", "thu", "thu_nghiem.localhost", "000.00.01.H97"), "không được chứa dấu gạch dưới"),
        (ProvinceSpec("Tỉnh Thử", "thu", "thu.localhost", "00.00.01.H97"), "không đúng dạng XXX.YY.ZZ.Hnn"),
        (ProvinceSpec("Tỉnh Thử", "thu", "thu.localhost", "000.00.01.H97", 99), "không có trong danh mục"),
        (ProvinceSpec("Tỉnh Thử", "Thu Nghiem", "thu.localhost", "000.00.01.H97"), "không hợp lệ"),
        (ProvinceSpec("Tỉnh Thử", "thu", "danang.localhost", "000.00.01.H97"), "đã được dùng cho “Thành phố Đà Nẵng”"),
        (ProvinceSpec("Tỉnh Thử", "thu", "thu.localhost", "000.00.01.H15"), "Mã định danh cơ quan “000.00.01.H15”"),
        (ProvinceSpec("", "thu", "thu.localhost", "000.00.01.H97"), "Tên tỉnh không được để trống"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(danang, spec, expected):
    before = (Province.objects.count(), Domain.objects.count())
    with pytest.raises(ValidationError) as exc_info:
        create_province(spec)
    assert expected in messages_of(exc_info)
    assert (Province.objects.count(), Domain.objects.count()) == before
    assert not schema_exists("thu")


def test_failure_after_the_schema_exists_leaves_no_half_created_schema(monkeypatch):
    def broken_create(*args, **kwargs):
        raise RuntimeError("domain table unavailable")

    monkeypatch.setattr(Domain.objects, "create", broken_create)
    with pytest.raises(RuntimeError):
        create_province(GOOD)
    assert not schema_exists("thunghiem")
    assert not Province.objects.filter(slug="thunghiem").exists()


def test_command_reports_bad_input_in_vietnamese(danang):
    with pytest.raises(CommandError) as exc_info:
        call_command("create_province", name="Tỉnh Thử", slug="thu", domain="thu_1.localhost", agency_code="bad")
    text = str(exc_info.value)
    assert text.startswith("Không tạo được tỉnh:")
    assert "dấu gạch dưới" in text and "XXX.YY.ZZ.Hnn" in text
    assert not schema_exists("thu")


def test_command_is_idempotent(danang, capsys):
    args = dict(name="Thành phố Đà Nẵng", slug="danang", domain="danang.localhost", agency_code="000.00.01.H15")
    call_command("create_province", **args)
    assert "đã có sẵn, không thay đổi gì" in capsys.readouterr().out
