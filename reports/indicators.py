"""What a province is judged on (Decision 766), as numbers for a scope: the one place that says what
each indicator means. The dashboard, the periodic report, its Excel file, the national view and the
click-through to the dossiers behind a number all derive from here.

Definitions (local dates, Asia/Ho_Chi_Minh; a period is [start, end], both days included):

- **received** (tiếp nhận mới): dossiers accepted in the period (``accepted_at``), split by channel
  (counter / online / postal). Online registrations not yet accepted are not received.
- **carried_over** (kỳ trước chuyển sang): accepted before ``start`` and neither done nor closed before
  ``start``.
- **refused** (không tiếp nhận): refused at intake in the period.
- **done_early / done_on_time / done_late**: result ready (``result_ready_at``) in the period, by the
  dossier's grade (its result date against its legal due date).
- **withdrawn / stopped**: closed in the period by withdrawal or by stopping (``closed_at``).
- **in_progress_within / in_progress_late**: at the end of the period (or today, if the period has not
  ended), accepted, not done nor closed, not waiting for a supplement, and the legal due date not yet
  passed / passed.
- **paused**: at the same moment, waiting for the citizen's supplement (the clock stopped).
- **processing days** of a dossier done in the period: working days after its clock's start day up to
  its result day, minus the working days its clock was stopped for supplements (deadlines.py);
  ``avg_days`` and ``p90_days`` are over the dossiers done in the period.
- **ratings / satisfied / complaints / complaints_answered**: ratings first given in the period, those
  of 4–5 stars, those that need an answer, and of these the answered ones.
- **messages_sent / messages_failed**: citizen messages (notifications) sent in the period, and those
  given up as failed in the period.

Dimensions: the reception point that received the dossier (today a reception department; issue 15
brings reception points), the department that handles the procedure (``procedure.department``) and
the procedure.
"""

from dataclasses import dataclass, field, fields
from datetime import date

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Scope:
    """What the figures are about: a period and optional filters (None: all)."""

    start: date
    end: date  # included
    point: int | None = None  # the receiving reception department's id
    department: int | None = None  # the handling department's id (procedure.department)
    procedure: int | None = None


@dataclass
class Figures:
    carried_over: int = 0
    received: int = 0
    received_counter: int = 0
    received_online: int = 0
    received_postal: int = 0
    refused: int = 0
    done_early: int = 0
    done_on_time: int = 0
    done_late: int = 0
    withdrawn: int = 0
    stopped: int = 0
    in_progress_within: int = 0
    in_progress_late: int = 0
    paused: int = 0
    avg_days: float | None = None
    p90_days: int | None = None
    ratings: int = 0
    satisfied: int = 0
    complaints: int = 0
    complaints_answered: int = 0
    messages_sent: int = 0
    messages_failed: int = 0
    # processing days of the dossiers done: {working days: how many}, from which avg and p90 come
    durations: dict = field(default_factory=dict, repr=False)

    @property
    def done(self) -> int:
        return self.done_early + self.done_on_time + self.done_late

    @property
    def to_handle(self) -> int:
        """Tổng số phải giải quyết: carried over + received."""
        return self.carried_over + self.received

    @property
    def on_time_share(self) -> float | None:
        """Share of the done dossiers done early or on time (None when nothing was done)."""
        return (self.done_early + self.done_on_time) / self.done if self.done else None

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.ratings if self.ratings else None

    def counts(self) -> dict:
        """The integer indicators by key (what tests compare and the click-through links name)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.type == "int" or f.type is int}


# The indicators a number on a page may click through to (dossiers_behind), with their labels.
LABELS = {
    "carried_over": _("Kỳ trước chuyển sang"),
    "received": _("Tiếp nhận mới"),
    "received_counter": _("Trực tiếp"),
    "received_online": _("Trực tuyến"),
    "received_postal": _("Qua bưu chính"),
    "refused": _("Không tiếp nhận"),
    "done_early": _("Trước hạn"),
    "done_on_time": _("Đúng hạn"),
    "done_late": _("Trễ hạn"),
    "withdrawn": _("Rút hồ sơ"),
    "stopped": _("Dừng xử lý"),
    "in_progress_within": _("Đang giải quyết trong hạn"),
    "in_progress_late": _("Đang giải quyết quá hạn"),
    "paused": _("Chờ bổ sung"),
}


def figures(scope: Scope) -> Figures:
    """The figures of a scope from the aggregates kept by the dossier events (fast at a million)."""
    raise NotImplementedError


def figures_direct(scope: Scope) -> Figures:
    """The same figures counted over the raw rows: the reference the aggregates are checked against."""
    raise NotImplementedError


@dataclass
class Row:
    key: object  # a department/procedure/point id, a field name, or a week's Monday
    label: str
    figures: Figures


def breakdown(scope: Scope, by: str) -> list[Row]:
    """The figures of a scope split by "department", "procedure", "point", "field" (procedure.field)
    or "week" (weeks starting on Monday, within the period); rows in a stable order."""
    raise NotImplementedError


def dossiers_behind(scope: Scope, key: str):
    """The Dossier queryset a number of `figures(scope)` counts (a LABELS key)."""
    raise NotImplementedError
