"""Procedures, dossiers and their append-only timeline.

No code outside `dossiers/services.py` changes a dossier's status, holder or dates: admin, API,
the Zalo bot and commands all call the actions there.
"""

import secrets

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from egov.inserts import CompiledInsert
from offices.models import Department, Officer
from offices.phones import validate_phone

from .text import fold


class ComponentKind(models.TextChoices):
    ORIGINAL = "original", _("Bản chính")
    CERTIFIED_COPY = "certified_copy", _("Bản sao có chứng thực")
    COPY = "copy", _("Bản sao")
    ORIGINAL_OR_COPY = "original_or_copy", _("Bản chính hoặc bản sao")


class SupplementMode(models.TextChoices):
    RESUME = "resume", _("Tính tiếp thời gian còn lại")
    RESTART = "restart", _("Tính lại từ đầu")


class Procedure(models.Model):
    """Thủ tục hành chính in this province's catalogue."""

    code = models.CharField(_("mã thủ tục"), max_length=32, unique=True)
    name = models.CharField(_("tên thủ tục"), max_length=500)
    field = models.CharField(_("lĩnh vực"), max_length=200, blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="procedures", verbose_name=_("cơ quan giải quyết")
    )
    processing_days = models.PositiveSmallIntegerField(
        _("thời hạn giải quyết (ngày làm việc)"), help_text=_("0 = trả trong ngày.")
    )
    fee = models.PositiveIntegerField(_("phí, lệ phí (đồng)"), default=0)
    fee_note = models.CharField(_("ghi chú phí, lệ phí"), max_length=500, blank=True)
    on_supplement = models.CharField(
        _("khi bổ sung hồ sơ"), max_length=10, choices=SupplementMode.choices, default=SupplementMode.RESUME
    )
    reception_points = models.ManyToManyField(
        Department,
        blank=True,
        related_name="receivable_procedures",
        limit_choices_to={"is_reception": True},
        verbose_name=_("điểm tiếp nhận"),
        help_text=_("Để trống: tiếp nhận tại mọi điểm tiếp nhận của tỉnh."),
    )
    legal_basis = models.CharField(_("căn cứ pháp lý"), max_length=300, blank=True)
    result = models.CharField(_("kết quả"), max_length=300, blank=True)
    is_active = models.BooleanField(_("đang áp dụng"), default=True)

    class Meta:
        verbose_name = _("thủ tục hành chính")
        verbose_name_plural = _("thủ tục hành chính")
        ordering = ["field", "name"]

    def __str__(self):
        return f"{self.code} — {self.name}"


class ProcedureComponent(models.Model):
    """Thành phần hồ sơ required by a procedure."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="components")
    position = models.PositiveSmallIntegerField(_("thứ tự"), default=0)
    name = models.CharField(_("tên giấy tờ"), max_length=500)
    kind = models.CharField(_("loại"), max_length=20, choices=ComponentKind.choices, default=ComponentKind.ORIGINAL)
    count = models.PositiveSmallIntegerField(_("số lượng"), default=1)
    required = models.BooleanField(_("bắt buộc"), default=True)

    class Meta:
        verbose_name = _("thành phần hồ sơ")
        verbose_name_plural = _("thành phần hồ sơ")
        ordering = ["procedure", "position", "id"]

    def __str__(self):
        return self.name


class WorkingDayOverride(models.Model):
    """The province's own calendar changes: extra days off and swapped working days (e.g. a Saturday)."""

    date = models.DateField(_("ngày"), unique=True)
    is_working_day = models.BooleanField(
        _("là ngày làm việc"), help_text=_("Bật: làm việc bù (ví dụ thứ Bảy); tắt: ngày nghỉ thêm.")
    )
    reason = models.CharField(_("lý do"), max_length=200)

    class Meta:
        verbose_name = _("điều chỉnh lịch làm việc")
        verbose_name_plural = _("điều chỉnh lịch làm việc")
        ordering = ["-date"]

    def __str__(self):
        return f"{self.date:%d/%m/%Y}: {self.reason}"


class Status(models.IntegerChoices):
    """National public-service portal status codes."""

    REGISTERED = 1, _("Mới đăng ký")
    ACCEPTED = 2, _("Được tiếp nhận")
    REFUSED = 3, _("Không được tiếp nhận")
    IN_PROGRESS = 4, _("Đang xử lý")
    SUPPLEMENT = 5, _("Yêu cầu bổ sung giấy tờ")
    FEES = 6, _("Yêu cầu thực hiện nghĩa vụ tài chính")
    WITHDRAWN = 7, _("Công dân yêu cầu rút hồ sơ")
    STOPPED = 8, _("Dừng xử lý")
    RESULT_READY = 9, _("Đã xử lý xong")
    RETURNED = 10, _("Đã trả kết quả")


# The statuses of a dossier still being worked on (workflow.OPEN_STATUSES, which the tests check
# against this): the condition of the worklists' partial indexes.
OPEN_STATUSES = (
    Status.REGISTERED,
    Status.ACCEPTED,
    Status.IN_PROGRESS,
    Status.SUPPLEMENT,
    Status.FEES,
    Status.RESULT_READY,
)

# Whose clock is running (selectors.RUNNING): the overdue and due-soon worklists' partial index.
RUNNING_STATUSES = (Status.ACCEPTED, Status.IN_PROGRESS, Status.FEES)


class Channel(models.IntegerChoices):
    COUNTER = 1, _("Trực tiếp")
    ONLINE = 2, _("Trực tuyến")
    POSTAL = 3, _("Qua bưu chính công ích")


class Grade(models.TextChoices):
    EARLY = "early", _("Trước hạn")
    ON_TIME = "on_time", _("Đúng hạn")
    LATE = "late", _("Trễ hạn")


def new_lookup_token():
    """128 bits of randomness, URL-safe: the secret in the receipt's QR code."""
    return secrets.token_urlsafe(16)


class DossierCounter(models.Model):
    """Last sequence number issued per receiving agency per day (mã hồ sơ)."""

    agency_code = models.CharField(max_length=20)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency_code", "day"], name="dossier_counter_unique_day")]

    def __str__(self):
        return f"{self.agency_code} {self.day:%d/%m/%Y}: {self.last}"


class Dossier(CompiledInsert, models.Model):
    """Hồ sơ: one application for one procedure, from intake to the returned result."""

    code = models.CharField(_("mã hồ sơ"), max_length=40, unique=True)
    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("thủ tục")
    )
    channel = models.PositiveSmallIntegerField(_("hình thức nộp"), choices=Channel.choices, default=Channel.COUNTER)
    status = models.PositiveSmallIntegerField(_("trạng thái"), choices=Status.choices, default=Status.REGISTERED)

    applicant_name = models.CharField(_("họ tên người nộp"), max_length=200)
    applicant_id_number = models.CharField(_("số giấy tờ tùy thân"), max_length=20, blank=True)
    applicant_phone = models.CharField(_("điện thoại"), max_length=20, blank=True, validators=[validate_phone])
    applicant_address = models.CharField(_("địa chỉ"), max_length=300, blank=True)
    applicant_email = models.EmailField(_("thư điện tử"), blank=True)
    applicant_ward_code = models.CharField(_("mã phường, xã"), max_length=10, blank=True)

    current_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="dossiers", null=True, verbose_name=_("phòng ban đang giữ")
    )
    current_officer = models.ForeignKey(
        Officer,
        on_delete=models.PROTECT,
        related_name="dossiers",
        null=True,
        blank=True,
        verbose_name=_("cán bộ đang giữ"),
    )
    received_by = models.ForeignKey(
        Officer,
        on_delete=models.PROTECT,
        related_name="received_dossiers",
        null=True,
        verbose_name=_("người tiếp nhận"),
    )
    # Where the dossier was handed in and where its result is returned: set at intake, never changed.
    reception_point = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="received_dossiers",
        null=True,
        blank=True,
        verbose_name=_("điểm tiếp nhận"),
    )

    registered_at = models.DateTimeField(_("đăng ký lúc"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("tiếp nhận lúc"), null=True, blank=True)
    appointment_date = models.DateField(_("ngày hẹn trả"), null=True, blank=True)
    original_appointment_date = models.DateField(_("ngày hẹn trả ban đầu"), null=True, blank=True)
    due_date = models.DateField(
        _("hạn giải quyết"),
        null=True,
        blank=True,
        help_text=_("Hạn theo quy định (chỉ đổi khi bổ sung hồ sơ); ngày hẹn có thể lùi khi xin lỗi hẹn lại."),
    )
    paused_at = models.DateTimeField(_("tạm dừng từ"), null=True, blank=True)
    remaining_days = models.PositiveSmallIntegerField(_("số ngày còn lại khi tạm dừng"), null=True, blank=True)
    fee_amount = models.PositiveIntegerField(_("số tiền phải nộp"), default=0)

    result = models.TextField(_("kết quả giải quyết"), blank=True)
    result_ready_at = models.DateTimeField(_("có kết quả lúc"), null=True, blank=True)
    returned_at = models.DateTimeField(_("trả kết quả lúc"), null=True, blank=True)
    closed_at = models.DateTimeField(_("kết thúc lúc"), null=True, blank=True)
    grade = models.CharField(_("kết quả đánh giá"), max_length=10, choices=Grade.choices, blank=True)

    lookup_token = models.CharField(max_length=43, unique=True, default=new_lookup_token, editable=False)
    version = models.PositiveIntegerField(default=0, editable=False)
    search_text = models.TextField(editable=False, default="")

    class Meta:
        verbose_name = _("hồ sơ")
        verbose_name_plural = _("hồ sơ")
        ordering = ["-registered_at"]
        permissions = [
            ("receive_dossier", _("Tiếp nhận, từ chối, rút hồ sơ")),
            ("hand_over_dossier", _("Chuyển hồ sơ")),
            ("request_supplement", _("Yêu cầu và nhận bổ sung hồ sơ")),
            ("request_fees", _("Yêu cầu thực hiện nghĩa vụ tài chính")),
            ("stop_dossier", _("Dừng xử lý hồ sơ")),
            ("sign_result", _("Ký, duyệt kết quả")),
            ("return_result", _("Trả kết quả")),
            ("postpone_dossier", _("Xin lỗi và hẹn lại ngày trả")),
            ("view_all_dossiers", _("Xem hồ sơ của mọi phòng ban")),
        ]
        indexes = [
            # Overdue and due soon by their dates, and their counts. A page of "Đến hạn" (1,500 dossiers
            # due within two working days at a million) is sorted from this index alone: without the
            # list's order columns it fetched every one of them from the table first (16 ms).
            models.Index(fields=["status", "due_date"], include=["registered_at", "id"], name="dossier_status_due"),
            models.Index(fields=["current_department", "status"]),
            # The API list's default order with a tie-breaker, for keyset pagination.
            models.Index(F("registered_at").desc(), F("id").desc(), name="dossier_registered_desc"),
            # The worklists (dossiers.selectors.worklist_filter), each in the list's order
            # (-registered_at, -id): a status's dossiers (waiting for the counter, results to hand
            # over, awaiting papers, the changelist filtered by a status), and the open dossiers
            # (workflow.OPEN_STATUSES, a small slice of a province's history) of an officer and of
            # a department. Overdue and due soon use (status, due_date) above.
            models.Index(F("status"), F("registered_at").desc(), F("id").desc(), name="dossier_status_registered"),
            models.Index(
                F("current_officer"),
                F("registered_at").desc(),
                F("id").desc(),
                name="dossier_officer_open",
                condition=models.Q(status__in=OPEN_STATUSES),
                include=["current_department", "status"],  # the counts read the index alone
            ),
            models.Index(
                F("current_department"),
                F("registered_at").desc(),
                F("id").desc(),
                name="dossier_department_open",
                condition=models.Q(status__in=OPEN_STATUSES),
                include=["status", "due_date"],
            ),
            # The running dossiers (clock running: RUNNING_STATUSES) in the list's order: "Quá hạn" and
            # "Đến hạn" are a date condition on them, dense enough to read in order and stop at the page.
            models.Index(
                F("registered_at").desc(),
                F("id").desc(),
                name="dossier_running",
                condition=models.Q(status__in=RUNNING_STATUSES),
                include=["due_date"],
            ),
            # A point's counter worklists (results to hand out, online registrations waiting): a status's
            # dossiers of one reception point in the list's order.
            models.Index(
                F("reception_point"),
                F("status"),
                F("registered_at").desc(),
                F("id").desc(),
                name="dossier_point_status",
            ),
            # Diacritic-insensitive search: search_text is folded, so `search_text__contains=fold(q)`
            # is a LIKE '%q%' that this trigram index answers (pg_trgm, migration 0008).
            GinIndex(OpClass(F("search_text"), name="gin_trgm_ops"), name="dossier_search_trgm"),
        ]

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        self.search_text = fold(f"{self.code} {self.applicant_name} {self.applicant_id_number}")
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    @property
    def is_open(self):
        from .workflow import OPEN_STATUSES

        return self.status in OPEN_STATUSES


class DossierComponent(models.Model):
    """A paper actually handed in with the dossier."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="components")
    name = models.CharField(_("tên giấy tờ"), max_length=500)
    kind = models.CharField(_("loại"), max_length=20, choices=ComponentKind.choices)
    count = models.PositiveSmallIntegerField(_("số lượng"), default=1)
    added_by_supplement = models.BooleanField(_("nộp bổ sung"), default=False)

    class Meta:
        verbose_name = _("giấy tờ đã nộp")
        verbose_name_plural = _("giấy tờ đã nộp")
        ordering = ["id"]

    def __str__(self):
        return self.name


class SupplementRequest(models.Model):
    """Phiếu yêu cầu bổ sung: everything missing, told once; the clock is paused until it is received."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="supplement_requests")
    requested_at = models.DateTimeField(_("yêu cầu lúc"))
    requested_by = models.ForeignKey(Officer, on_delete=models.PROTECT, related_name="+", verbose_name=_("cán bộ"))
    reason = models.TextField(_("lý do"))
    remaining_days = models.PositiveSmallIntegerField(_("số ngày làm việc còn lại"))
    appointment_before = models.DateField(_("ngày hẹn trước khi tạm dừng"), null=True)
    received_at = models.DateTimeField(_("nhận bổ sung lúc"), null=True, blank=True)
    appointment_after = models.DateField(_("ngày hẹn mới"), null=True, blank=True)

    class Meta:
        verbose_name = _("yêu cầu bổ sung")
        verbose_name_plural = _("yêu cầu bổ sung")
        ordering = ["-requested_at"]

    def __str__(self):
        from django.utils import timezone

        return f"{self.dossier.code} — {timezone.localtime(self.requested_at):%d/%m/%Y}"


class MissingComponent(models.Model):
    request = models.ForeignKey(SupplementRequest, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(_("giấy tờ cần bổ sung"), max_length=500)
    reason = models.CharField(_("lý do"), max_length=500)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name


class DossierEvent(CompiledInsert, models.Model):
    """Timeline entry (phiếu kiểm soát quá trình): append-only, one row per action."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("thao tác"), max_length=30)
    from_status = models.PositiveSmallIntegerField(_("trạng thái trước"), choices=Status.choices, null=True)
    to_status = models.PositiveSmallIntegerField(_("trạng thái sau"), choices=Status.choices)
    actor = models.ForeignKey(
        Officer, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("người thực hiện")
    )
    from_department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, related_name="+")
    to_department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, related_name="+")
    from_officer = models.ForeignKey(Officer, on_delete=models.PROTECT, null=True, related_name="+")
    to_officer = models.ForeignKey(Officer, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(_("thời điểm"))
    # Shown to the citizen (status page, API lookup, messages, printed forms): reasons the law says the
    # citizen must be told, and what the officer chose to tell them. Everything else is internal.
    citizen_note = models.TextField(_("ghi chú gửi công dân (hiển thị công khai)"), blank=True)
    internal_note = models.TextField(_("ghi chú nội bộ (chỉ cán bộ thấy)"), blank=True)
    step_due = models.DateField(_("hạn của bước"), null=True)
    step_grade = models.CharField(_("kết quả đánh giá bước trước"), max_length=10, choices=Grade.choices, blank=True)
    appointment_date = models.DateField(_("ngày hẹn sau thao tác"), null=True)

    class Meta:
        verbose_name = _("nhật ký xử lý")
        verbose_name_plural = _("nhật ký xử lý")
        ordering = ["created_at", "id"]
        # The register (form 06) reads a point's intake events of a period.
        indexes = [models.Index(fields=["action", "created_at"], name="dossier_event_action_time")]

    def __str__(self):
        from django.utils import timezone

        from .workflow import label_of

        return f"{label_of(self.action)} — {timezone.localtime(self.created_at):%H:%M %d/%m/%Y}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("Nhật ký xử lý hồ sơ không được sửa."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Nhật ký xử lý hồ sơ không được xóa."))


class AccessKind(models.TextChoices):
    VIEW = "view", _("Mở trang hồ sơ")
    PRINT = "print", _("In phiếu")
    REGISTER = "register", _("Xem, tải sổ theo dõi hồ sơ")
    API = "api", _("Đọc hồ sơ qua API")
    FILE = "file", _("Mở giấy tờ công dân gửi trực tuyến")


class PersonalDataAccess(models.Model):
    """Append-only: an officer opened a citizen's personal data (a dossier's page, a printed form, the
    register of a point, the API's record). Written by `dossiers.access`, read by province admins."""

    at = models.DateTimeField(_("thời điểm"), auto_now_add=True, db_index=True)
    user = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("tài khoản"))
    username = models.CharField(_("tài khoản (tên)"), max_length=150)
    kind = models.CharField(_("truy cập"), max_length=16, choices=AccessKind.choices)
    dossier = models.ForeignKey(
        Dossier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accesses",
        verbose_name=_("hồ sơ"),
    )
    detail = models.CharField(_("chi tiết"), max_length=300, blank=True)
    address = models.CharField(_("địa chỉ IP"), max_length=64, blank=True)  # IPv4, or an IPv6 /64

    class Meta:
        verbose_name = _("lượt truy cập dữ liệu cá nhân")
        verbose_name_plural = _("nhật ký truy cập dữ liệu cá nhân")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.username} — {self.get_kind_display()}"
