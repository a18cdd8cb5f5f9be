"""The national operator turns a province's "emergency alone" rule on or off (audited as national).

    python manage.py set_emergency_alone --province danang on --reason "Mùa bão 2026" [--operator NAME]

Province admins cannot turn it on alone (they need a second admin's approval); this is the national
path, run by whoever operates the national deployment. The operator's name defaults to the login name.
"""

import getpass

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context


class Command(BaseCommand):
    help = "Quốc gia bật hoặc tắt “gửi tin khẩn cấp một người” của một tỉnh (có ghi nhật ký)."

    def add_arguments(self, parser):
        parser.add_argument("--province", required=True, help="Mã ngắn của tỉnh, ví dụ danang")
        parser.add_argument("state", choices=["on", "off"], help="on: bật, off: tắt")
        parser.add_argument("--reason", default="", help="Lý do (ghi vào nhật ký)")
        parser.add_argument("--operator", default="", help="Tên người vận hành (mặc định: tên đăng nhập máy)")

    def handle(self, *args, **options):
        from broadcasts import services
        from provinces.models import Province

        with schema_context(get_public_schema_name()):
            province = Province.objects.filter(slug=options["province"]).first()
        if province is None or province.schema_name == get_public_schema_name():
            raise CommandError(f"Không có tỉnh “{options['province']}”.")
        operator = options["operator"] or getpass.getuser()
        on = options["state"] == "on"
        with tenant_context(province):
            try:
                settings = services.set_emergency_alone_by_national(on, operator, options["reason"])
            except services.BroadcastError as exc:
                raise CommandError(exc.message) from None
        state = "bật" if settings.allow_emergency_alone else "tắt"
        self.stdout.write(self.style.SUCCESS(f"{province.name}: đã {state} gửi tin khẩn cấp một người ({operator})."))
