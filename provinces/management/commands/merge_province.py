"""`manage.py merge_province --from binhduong --into hochiminh [--dry-run]`: see provinces/merging.py."""

from django.core.management.base import BaseCommand, CommandError

from provinces.merging import BATCH_SIZE, MergeError, merge_province


class Command(BaseCommand):
    help = (
        "Sáp nhập một tỉnh vào tỉnh khác: chuyển mọi dữ liệu (phòng ban, cán bộ, thủ tục, hồ sơ, nhật ký, "
        "tin nhắn, người quan tâm Zalo, tin cảnh báo), giữ nguyên mã hồ sơ và đường dẫn QR; tên miền cũ trỏ "
        "về tỉnh nhận; lược đồ cũ chỉ còn đọc. Chạy lại sau sự cố sẽ tiếp tục từ chỗ dừng."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", required=True, help="Mã ngắn của tỉnh được sáp nhập")
        parser.add_argument("--into", dest="target", required=True, help="Mã ngắn của tỉnh nhận")
        parser.add_argument("--dry-run", action="store_true", help="Chỉ in những gì sẽ chuyển và các xung đột")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Số dòng mỗi giao dịch")

    def handle(self, *args, **options):
        try:
            report = merge_province(
                options["source"], options["target"], dry_run=options["dry_run"], batch_size=options["batch_size"]
            )
        except MergeError as exc:
            raise CommandError(str(exc)) from None
        out = self.stdout
        head = "Chạy thử (không ghi gì): " if report.dry_run else "Đã sáp nhập: "
        out.write(f"{head}{report.source} → {report.target}")
        out.write(f"{'bảng':<36} {'số dòng':>8} {'chép':>8} {'gộp':>8} {'bỏ qua':>8}")
        for label, m in sorted(report.models.items()):
            if m.source_rows or m.moved:
                out.write(f"{label:<36} {m.source_rows:>8} {m.copied:>8} {m.merged:>8} {m.skipped:>8}")
        conflicts = report.conflicts()
        out.write("Xung đột:" if conflicts else "Xung đột: không có")
        for (label, rule), count in sorted(conflicts.items()):
            out.write(f"  {label:<34} {rule:<28} {count:>6}")
        for label, m in sorted(report.models.items()):
            for old, new in m.renamed:
                out.write(f"  đổi tên {label}: {old} → {new}")
        if report.verified:
            out.write(self.style.SUCCESS("Kiểm tra số dòng và tổng kiểm (md5) của từng bảng: khớp."))
        elif not report.dry_run:
            raise CommandError("Kiểm tra không khớp.")
