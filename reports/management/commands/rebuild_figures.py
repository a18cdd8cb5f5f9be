"""Recompute the dashboard's figures from the raw rows, per province, in batches (safe to rerun)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_tenant_model, tenant_context

from reports import figures


class Command(BaseCommand):
    help = "Tính lại số liệu tổng hợp của bảng điều khiển từ hồ sơ, đánh giá và tin nhắn (theo từng tỉnh)."

    def add_arguments(self, parser):
        parser.add_argument("--province", action="append", help="slug (repeatable); default: every province")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="empty the figures first (locks them while it runs); default: settle each source's difference",
        )

    def handle(self, *args, province=None, reset=False, **options):
        # A merged province's schema is frozen (provinces/merging.py): its figures moved with its rows.
        provinces = get_tenant_model().objects.exclude(schema_name="public").filter(merged_into__isnull=True)
        if province:
            provinces = provinces.filter(slug__in=province)
            missing = set(province) - set(provinces.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"Không có tỉnh đang hoạt động: {', '.join(sorted(missing))}")
        for tenant in provinces.order_by("slug"):
            started = time.monotonic()
            with tenant_context(tenant):
                changed = figures.rebuild(reset=reset)
            counts = ", ".join(f"{kind} {n}" for kind, n in changed.items())
            seconds = time.monotonic() - started
            self.stdout.write(f"{tenant.slug}: số nguồn số liệu thay đổi: {counts} ({seconds:.1f} giây)")
