from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from offices.roles import ROLES_BY_KEY
from offices.security import base32_secret, ensure_demo_device
from provinces.demo import DEMO_PROVINCES, NATIONAL_SUPERUSER
from provinces.models import Province
from provinces.services import create_province, ensure_public_tenant, province_url

from .create_province import format_errors

# Each app that has demo data contributes a `seed(province)` run inside the province's schema, in
# this order. The first returns the logins to print.
SEEDERS = ("offices.demo.seed", "dossiers.demo.seed", "zalo.demo.seed", "reports.demo.seed")


class Command(BaseCommand):
    help = (
        "Tạo năm tỉnh mẫu (Đà Nẵng, Đồng Tháp, Bình Dương, Cà Mau, Thành phố Hồ Chí Minh) "
        "với phòng ban, cán bộ và dữ liệu mẫu. "
        "Chạy lại không tạo trùng và không thay đổi gì."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Cho phép chạy khi DEBUG tắt (máy chủ thật): không nên."
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo tạo tài khoản mẫu với mật khẩu công khai; chỉ chạy khi DEBUG bật (hoặc thêm --force)."
            )
        password = settings.DEMO_PASSWORD
        with schema_context(get_public_schema_name()):
            ensure_public_tenant()
            if not User.objects.filter(username=NATIONAL_SUPERUSER).exists():
                User.objects.create_superuser(NATIONAL_SUPERUSER, email="", password=password)
            national_device = ensure_demo_device(
                User.objects.get(username=NATIONAL_SUPERUSER), get_public_schema_name()
            )

        rows = []
        for spec in DEMO_PROVINCES:
            merged = Province.objects.filter(slug=spec.slug, merged_into__isnull=False).first()
            if merged is not None:  # merge_province moved it (and its domain) into another province
                self.stdout.write(f"{merged.name}: đã sáp nhập vào {merged.merged_into.name}, bỏ qua")
                continue
            try:
                province, created = create_province(spec)
            except ValidationError as exc:
                raise CommandError(f"Không tạo được {spec.name}:\n" + format_errors(exc)) from None
            self.stdout.write(("Đã tạo " if created else "Đã có ") + f"{province.name}")
            with tenant_context(province):
                logins = None
                for path in SEEDERS:
                    result = import_string(path)(province)
                    if logins is None:
                        logins = result
            rows.append((province, logins or []))

        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS("Trang chung: ")
            + f"{settings.SITE_SCHEME}://{settings.PUBLIC_DOMAIN}:{settings.SITE_PORT}/"
        )
        self.stdout.write(
            f"  quản trị quốc gia: {NATIONAL_SUPERUSER} / {password}   khoá TOTP {base32_secret(national_device)}"
        )
        for province, logins in rows:
            self.stdout.write(self.style.SUCCESS(f"{province.name}: ") + province_url(province, "/admin/"))
            for username, full_name, role, device in logins:
                self.stdout.write(
                    f"  {username:<14} {ROLES_BY_KEY[role].group_name:<18} {full_name:<18} "
                    f"khoá TOTP {base32_secret(device)}"
                )
        self.stdout.write(f"Mật khẩu của mọi tài khoản mẫu: {password}  (đặt DEMO_PASSWORD để đổi)")
        self.stdout.write(
            "Xác thực hai bước: thêm khoá TOTP vào ứng dụng xác thực, hoặc lấy mã hiện tại bằng\n"
            "  oathtool --totp -b KHOÁ      hoặc   python manage.py totp_code quantri --province danang\n"
            "  (quản trị quốc gia: python manage.py totp_code admin)"
        )
