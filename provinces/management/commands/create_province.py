from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from provinces.services import ProvinceSpec, create_province, ensure_public_tenant, province_url


def format_errors(exc: ValidationError) -> str:
    return "\n".join(f"  - {message}" for message in exc.messages)


class Command(BaseCommand):
    help = "Tạo một tỉnh, thành phố (lược đồ dữ liệu riêng và tên miền). Chạy lại với cùng tham số không thay đổi gì."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Tên, ví dụ “Thành phố Đà Nẵng”")
        parser.add_argument("--slug", required=True, help="Mã ngắn, chữ thường không dấu, ví dụ danang")
        parser.add_argument("--domain", required=True, help="Tên miền, ví dụ danang.localhost")
        parser.add_argument("--agency-code", required=True, help="Mã định danh cơ quan, ví dụ 000.00.01.H15")
        parser.add_argument("--admin-code", type=int, default=None, help="Mã tỉnh hành chính, ví dụ 48")

    def handle(self, *args, **options):
        spec = ProvinceSpec(
            name=options["name"],
            slug=options["slug"],
            domain=options["domain"],
            agency_code=options["agency_code"],
            admin_code=options["admin_code"],
        )
        ensure_public_tenant()
        try:
            province, created = create_province(spec)
        except ValidationError as exc:
            raise CommandError("Không tạo được tỉnh:\n" + format_errors(exc)) from None
        if created:
            self.stdout.write(self.style.SUCCESS(f"Đã tạo {province.name}: {province_url(province)}"))
        else:
            self.stdout.write(f"{province.name} đã có sẵn, không thay đổi gì: {province_url(province)}")
