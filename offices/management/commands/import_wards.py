"""Create a reception point for every ward of a province, from vietnam-provinces (idempotent)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_tenants.utils import tenant_context

from offices.models import Department, PointKind
from offices.points import ensure_ward_point, wards_of
from provinces.models import Province


class Command(BaseCommand):
    help = (
        "Tạo điểm tiếp nhận (bộ phận một cửa) cho mọi phường, xã của tỉnh theo danh mục vietnam-provinces, "
        "mỗi điểm một mã định danh cơ quan (xem offices/points.py). Chạy lại không tạo trùng."
    )

    def add_arguments(self, parser):
        parser.add_argument("--province", required=True, help="slug của tỉnh, ví dụ danang")
        parser.add_argument("--dry-run", action="store_true", help="Chỉ báo sẽ tạo bao nhiêu điểm, không ghi gì.")

    def handle(self, *args, province, dry_run=False, **options):
        found = Province.objects.exclude(schema_name="public").filter(slug=province).first()
        if found is None:
            raise CommandError(f"Không có tỉnh “{province}”.")
        if not found.admin_code:
            raise CommandError(f"{found.name} chưa có mã đơn vị hành chính; không biết danh sách phường, xã.")
        if not found.agency_code:
            raise CommandError(f"{found.name} chưa có mã định danh cơ quan; không cấp được mã cho các điểm.")
        wards = wards_of(found.admin_code)
        created = existing = 0
        with tenant_context(found), transaction.atomic():
            for code, name in wards:
                _point, new = ensure_ward_point(found, code, name, dry_run=dry_run)
                created += new
                existing += not new
            total = Department.objects.filter(is_reception=True, point_kind=PointKind.WARD).count()
        verb = "Sẽ tạo" if dry_run else "Đã tạo"
        self.stdout.write(
            f"{found.name}: {len(wards)} phường, xã; {verb} {created} điểm tiếp nhận mới; "
            f"{existing} phường, xã đã có điểm; tổng số điểm của phường, xã hiện có: {total}."
        )
