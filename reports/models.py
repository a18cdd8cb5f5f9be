"""The aggregates the dashboard reads (reports/figures.py is their only writer).

`Figure`: daily counters by measure and dimensions. `Contribution`: what each source row (a dossier,
a rating, a message) currently contributes to them, so a change applies only its difference.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

NONE = 0  # a dimension that does not apply (or is unknown): 0, never NULL, so the unique key holds


DAY, MONTH, WEEK = 1, 2, 3


class Figure(models.Model):
    """n of `measure` on `day` for a point, department, procedure and channel (0: none). Flows count on
    the day they happen; stocks (open, within, late, paused) are kept as +1 on the first day of each
    span and −1 on the day after it, plus their running total on `TOTAL_DAY`. Every day's row is also
    summed into its month's (`span` MONTH, `day` its first) and its week's (WEEK, `day` its Monday),
    so a long period reads a few rows per month."""

    span = models.SmallIntegerField(_("khoảng"), default=DAY)
    measure = models.CharField(_("chỉ tiêu"), max_length=24)
    day = models.DateField(_("ngày"))
    point_id = models.IntegerField(_("bộ phận tiếp nhận"), default=NONE)
    department_id = models.IntegerField(_("cơ quan giải quyết"), default=NONE)
    procedure_id = models.IntegerField(_("thủ tục"), default=NONE)
    channel = models.SmallIntegerField(_("hình thức nộp"), default=NONE)
    days = models.SmallIntegerField(_("số ngày xử lý"), default=-1)  # the bucket of measure "days"
    n = models.BigIntegerField(_("số lượng"), default=0)

    class Meta:
        verbose_name = _("số liệu tổng hợp")
        verbose_name_plural = _("số liệu tổng hợp")
        default_permissions = ()
        permissions = [("view_reports", _("Xem báo cáo, thống kê"))]
        constraints = [
            models.UniqueConstraint(
                fields=["span", "day", "measure", "point_id", "department_id", "procedure_id", "channel", "days"],
                include=["n"],  # the sums read the index alone
                name="figure_span_key",
            )
        ]

    def __str__(self):
        return f"{self.measure} {self.day:%d/%m/%Y}: {self.n}"


class Contribution(models.Model):
    """The entries a source row currently contributes to `Figure` (its last applied contribution)."""

    kind = models.CharField(max_length=12)  # "dossier", "rating", "message"
    object_id = models.BigIntegerField()
    entries = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="contribution_source")]

    def __str__(self):
        return f"{self.kind} {self.object_id}"


class FigureDelta(models.Model):
    """Changes to `Figure` not folded in yet: transactions only append here (no counter row is locked
    while a dossier's transaction is open), `figures.fold` moves them into `Figure` every minute, and
    readers add both."""

    span = models.SmallIntegerField(default=DAY)
    measure = models.CharField(max_length=24)
    day = models.DateField()
    point_id = models.IntegerField(default=NONE)
    department_id = models.IntegerField(default=NONE)
    procedure_id = models.IntegerField(default=NONE)
    channel = models.SmallIntegerField(default=NONE)
    days = models.SmallIntegerField(default=-1)
    n = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["span", "day"], name="figure_delta_span_day")]

    def __str__(self):
        return f"{self.measure} {self.day:%d/%m/%Y}: {self.n:+d}"
