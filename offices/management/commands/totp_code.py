"""Print the current TOTP code of an account (development: the demo accounts' authenticator)."""

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, schema_context

from offices.security import base32_secret, confirmed_device, current_code
from provinces.models import Province


class Command(BaseCommand):
    help = "In mã xác thực hai bước hiện tại của một tài khoản (chỉ dùng khi phát triển, DEBUG bật)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--province", help="slug của tỉnh (bỏ trống: quản trị quốc gia)")

    def handle(self, *args, username, province=None, **options):
        if not settings.DEBUG:
            raise CommandError("totp_code chỉ dùng khi DEBUG bật.")
        schema = get_public_schema_name()
        if province:
            found = Province.objects.filter(slug=province).first()
            if found is None:
                raise CommandError(f"Không có tỉnh “{province}”.")
            schema = found.schema_name
        with schema_context(schema):
            user = User.objects.filter(username=username).first()
            device = confirmed_device(user) if user else None
            if device is None:
                raise CommandError(f"Tài khoản “{username}” không có (hoặc chưa đăng ký xác thực hai bước).")
            self.stdout.write(f"{current_code(device)}  (khoá {base32_secret(device)})")
