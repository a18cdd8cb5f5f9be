"""Officers' admin: worklists, search, read-only timeline, and each workflow action as a form.

Nothing here writes a dossier directly: the intake and every action call `dossiers.services`.
"""

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import DateField, QuerySet, Value
from django.db.models.sql.where import WhereNode
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from reports.indicators import LABELS as INDICATOR_LABELS

from . import access, codes, printing, registers, selectors, services, workflow
from .forms import IntakeForm, ProcedureChoiceForm, form_for
from .models import (
    AccessKind,
    Dossier,
    DossierComponent,
    DossierEvent,
    PersonalDataAccess,
    Procedure,
    ProcedureComponent,
    Status,
    SupplementRequest,
    WorkingDayOverride,
)
from .text import fold


class ProcedureComponentInline(admin.TabularInline):
    model = ProcedureComponent
    extra = 0


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "field", "department", "processing_days", "fee", "is_active")
    list_filter = ("field", "department", "is_active")
    search_fields = ("code", "name")
    filter_horizontal = ("reception_points",)
    inlines = [ProcedureComponentInline]


@admin.register(WorkingDayOverride)
class WorkingDayOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "is_working_day", "reason")
    list_filter = ("is_working_day",)


class ReadOnlyInline(admin.TabularInline):
    """Parts of a dossier shown to whoever may see the dossier, and changed only by its actions."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("dossiers.view_dossier")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ComponentInline(ReadOnlyInline):
    model = DossierComponent
    fields = ("name", "kind", "count", "added_by_supplement")
    readonly_fields = fields


class SupplementInline(ReadOnlyInline):
    model = SupplementRequest
    fields = ("requested_at", "requested_by", "missing", "remaining_days", "received_at", "appointment_after")
    readonly_fields = fields

    @admin.display(description=_("giấy tờ cần bổ sung"))
    def missing(self, obj):
        return "; ".join(f"{i.name} ({i.reason})" for i in obj.items.all())


class TimelineInline(ReadOnlyInline):
    """Phiếu kiểm soát quá trình: shown, never edited (the database refuses changes too)."""

    model = DossierEvent
    verbose_name_plural = _("Quá trình xử lý")
    fields = ("when", "label", "actor", "route", "step_grade", "citizen_note", "internal_note")
    readonly_fields = fields
    ordering = ("created_at", "id")

    @admin.display(description=_("thời điểm"))
    def when(self, obj):
        return f"{timezone.localtime(obj.created_at):%H:%M %d/%m/%Y}"

    @admin.display(description=_("thao tác"))
    def label(self, obj):
        return workflow.label_of(obj.action)

    @admin.display(description=_("từ → đến"))
    def route(self, obj):
        start = obj.from_officer or obj.from_department or ""
        end = obj.to_officer or obj.to_department or ""
        return f"{start} → {end}" if (start or end) else ""


# Above this many rows (as the planner estimates them) the dossier list shows "khoảng N hồ sơ" from the
# estimate instead of counting: an exact count reads every row, a million for "Tất cả hồ sơ" in a large
# province. Below it (a worklist, a search, a status of the open ones) the count is exact, as the
# worklist's own count beside it, and cheap: a few milliseconds on the index that serves the list.
ESTIMATE_ABOVE = 50_000


class EstimatedCountPaginator(Paginator):
    """The admin's paginator, counting exactly up to ESTIMATE_ABOVE rows and estimating above."""

    estimated = False
    known_count = None  # the worklist's count when the list is a worklist as is (DossierAdmin.get_paginator)

    @cached_property
    def count(self):
        if self.known_count is not None:
            return self.known_count
        estimate = selectors.estimated_count(self.object_list)
        if estimate > ESTIMATE_ABOVE:
            self.estimated = True
            return estimate
        return self.object_list.count()

    @property
    def about(self):
        """The estimate as shown: three significant digits ("khoảng 1.000.000", not "998.734")."""
        digits = max(len(str(self.count)) - 3, 0)
        return f"{round(self.count, -digits):,}".replace(",", get_format("THOUSAND_SEPARATOR"))

    def validate_number(self, number):
        """A page past an estimated count is valid (the estimate may fall short of the real count;
        a page past the real end is empty)."""
        if self.count and self.estimated and str(number).isdigit() and int(number) > self.num_pages:
            return int(number)
        return super().validate_number(number)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if number <= self.num_pages and top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self.rows(bottom, top), number, self)

    def rows(self, bottom, top):
        """``object_list[bottom:top]`` by a deferred join: the page's primary keys first, in the list's order
        (LIMIT/OFFSET over the index matching the list: an index-only scan, however deep the page), then
        only those rows with their procedure, department and officer. The plain slice fetches and joins
        every row before the page's (2,500 on page 50) and, when the planner misjudges how many a
        worklist holds, sorts them all: 14-25 ms at a million dossiers instead of 1-4 ms. One query."""
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if not isinstance(queryset, QuerySet) or query.is_sliced or query.combinator or query.distinct_fields:
            return queryset[bottom:top]
        page = queryset.values("pk")[bottom:top]  # every condition of the list, what the user may see included
        rows = queryset._chain()
        # The page's rows are those keys, nothing else: the list's conditions again on the outer query
        # would let the planner scan every row they match to join them with the keys (7 ms for 4,000).
        rows.query.where = WhereNode()
        return rows.filter(pk__in=page)


class WorklistFilter(admin.SimpleListFilter):
    """The officer's role's worklists, each with its count; "all" is an explicit choice (``?worklist=all``),
    because a bare dossier list lands on the role's main worklist."""

    title = _("danh sách công việc")
    parameter_name = "worklist"
    ALL = "all"

    def lookups(self, request, model_admin):
        keys = selectors.worklists_for(request.user)
        counts = selectors.worklist_counts(request.user, keys=keys)
        request.worklist_counts = counts  # the list's own total when it shows a worklist as is (get_paginator)
        return [(key, f"{selectors.WORKLISTS[key]} ({counts[key]})") for key in keys]

    def queryset(self, request, queryset):
        if self.value() in selectors.WORKLISTS:
            return queryset.filter(selectors.worklist_filter(self.value(), request.user))
        return queryset

    def choices(self, changelist):
        yield {
            "selected": self.value() in (None, self.ALL),
            "query_string": changelist.get_query_string({self.parameter_name: self.ALL}),
            "display": _("Tất cả hồ sơ"),
        }
        for key, title in self.lookup_choices:
            yield {
                "selected": self.value() == key,
                "query_string": changelist.get_query_string({self.parameter_name: key}),
                "display": title,
            }


class IndicatorFilter(admin.ListFilter):
    """The dossiers behind a number of the province dashboard: ``?indicator=<key>`` with the dashboard's
    scope (``from``, ``to`` as dd/mm/yyyy, ``point``, ``department``, ``procedure``), listing exactly
    ``reports.indicators.dossiers_behind(scope, key)`` (within what the user may see).

    Every parameter is checked as the dashboard checks it (reports.dashboard.ScopeForm): an unknown
    indicator, a bad date, an unknown id, a parameter given twice or a scope without an indicator send
    the list to the admin's normal "?e=1" page."""

    title = _("số liệu báo cáo")
    parameter_name = "indicator"

    def __init__(self, request, params, model, model_admin):
        from reports.dashboard import SCOPE_PARAMETERS

        super().__init__(request, params, model, model_admin)
        self.scope = self.key = None
        given = {}
        for name in (self.parameter_name, *SCOPE_PARAMETERS):
            if name in params:
                values = params.pop(name)
                values = values if isinstance(values, list) else [values]
                if len(values) != 1:
                    raise IncorrectLookupParameters(f"{name} given {len(values)} times")
                given[name] = values[0]
                self.used_parameters[name] = values[0]
        if not given:
            return
        from reports.dashboard import ScopeForm
        from reports.indicators import LABELS

        key = given.pop(self.parameter_name, None)
        if key not in LABELS:
            raise IncorrectLookupParameters(f"unknown indicator {key!r}")
        form = ScopeForm(given)
        if not form.is_valid():
            raise IncorrectLookupParameters("; ".join(form.error_messages()))
        self.key, self.scope = key, form.scope()

    def has_output(self):
        return self.key is not None

    def expected_parameters(self):
        from reports.dashboard import SCOPE_PARAMETERS

        return [self.parameter_name, *SCOPE_PARAMETERS]

    def queryset(self, request, queryset):
        if self.key is None:
            return queryset
        from reports.indicators import dossiers_behind

        return queryset.filter(pk__in=dossiers_behind(self.scope, self.key).values("pk"))

    def label(self):
        from reports.dashboard import describe
        from reports.indicators import LABELS

        return f"{LABELS[self.key]} — {describe(self.scope)}"

    def choices(self, changelist):
        yield {
            "selected": False,
            "query_string": changelist.get_query_string(remove=self.expected_parameters()),
            "display": _("Bỏ lọc theo số liệu"),
        }
        yield {"selected": True, "query_string": changelist.get_query_string(), "display": self.label()}


class DossierChangeList(ChangeList):
    """The dossier list reads only the columns it shows (and what the holder's name is made of): a row
    of the list is built from 14 columns of four tables, not 64 (~40 µs a row less of the ORM's work)."""

    COLUMNS = (
        "code",
        "applicant_name",
        "status",
        "grade",
        "appointment_date",
        "due_date",
        "registered_at",
        "procedure",
        "procedure__name",
        "current_department",
        "current_department__name",
        "current_department__short_name",
        "current_officer",
        "current_officer__user",
        "current_officer__user__username",
        "current_officer__user__first_name",
        "current_officer__user__last_name",
    )

    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).only(*self.COLUMNS)


@admin.register(Dossier)
class DossierAdmin(admin.ModelAdmin):
    list_display = ("code", "applicant_name", "procedure_name", "status", "holder", "appointment", "deadline", "grade")
    list_filter = (WorklistFilter, IndicatorFilter, "status", "channel", "procedure__field")
    # The worklists carry their own counts (one query); per-choice facet counts would repeat them.
    show_facets = admin.ShowFacets.NEVER
    # Counts on a province's whole table are estimated above a threshold (the paginator), and the
    # "N total" next to a search (a second count of every dossier) is not shown.
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_select_related = ("procedure", "current_department", "current_officer__user")
    search_fields = ("code",)  # replaced by a diacritic-insensitive search in get_search_results
    search_help_text = _("Tìm theo mã hồ sơ, họ tên (gõ có dấu hoặc không dấu) hoặc số giấy tờ tùy thân.")
    date_hierarchy = None
    list_per_page = 50
    inlines = [ComponentInline, SupplementInline, TimelineInline]
    fieldsets = (
        (None, {"fields": ("code", "procedure", "channel", "status", "grade")}),
        (
            _("Người nộp"),
            {
                "fields": (
                    "applicant_name",
                    "applicant_id_number",
                    "applicant_phone",
                    "applicant_address",
                    "applicant_email",
                )
            },
        ),
        (
            _("Xử lý"),
            {
                "fields": (
                    "reception_point",
                    "current_department",
                    "current_officer",
                    "received_by",
                    "accepted_at",
                    "original_appointment_date",
                    "due_date",
                    "appointment_date",
                    "paused_at",
                    "fee_amount",
                    "result",
                    "result_ready_at",
                    "returned_at",
                )
            },
        ),
    )
    readonly_fields = [f for _name, opts in fieldsets for f in opts["fields"]]

    # --- list ---

    @admin.display(description=_("thủ tục"), ordering="procedure__name")
    def procedure_name(self, obj):
        return obj.procedure.name[:60]

    @admin.display(description=_("đang giữ"))
    def holder(self, obj):
        return obj.current_officer or obj.current_department or "—"

    @admin.display(description=_("hẹn trả"), ordering="appointment_date")
    def appointment(self, obj):
        return f"{obj.appointment_date:%d/%m/%Y}" if obj.appointment_date else "—"

    @admin.display(description=_("thời hạn"))
    def deadline(self, obj):
        """Where an open dossier stands against its due date; the grade of a finished one is its own column."""
        if obj.status == Status.SUPPLEMENT:
            return _("Tạm dừng")
        if obj.status in selectors.RUNNING and obj.due_date:
            if obj.due_date < (getattr(obj, "listed_on", None) or timezone.localdate()):
                return format_html('<strong style="color:#b3261e">{}</strong>', _("Quá hạn"))
            # The limit comes with the row (get_queryset): no calendar query per row.
            limit = getattr(obj, "due_soon_until", None) or selectors.due_soon_limit()
            if obj.due_date <= limit:
                return format_html('<strong style="color:#a15c00">{}</strong>', _("Sắp đến hạn"))
        return ""

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)
        # A worklist shown as is (no other filter, no search: only its page and order may change) has
        # as many rows as its count in the filter, counted a moment ago: not counted twice.
        worklist = request.GET.get(WorklistFilter.parameter_name)
        counts = getattr(request, "worklist_counts", None) or {}
        if worklist in counts and set(request.GET) <= {WorklistFilter.parameter_name, "p", "o"}:
            paginator.known_count = counts[worklist]
        return paginator

    def get_queryset(self, request):
        today = timezone.localdate()
        limit = selectors.due_soon_limit(today)
        # The day and the limit come with each row (the deadline column): not worked out again per row.
        return selectors.visible_dossiers(request.user).annotate(
            due_soon_until=Value(limit, output_field=DateField()), listed_on=Value(today, output_field=DateField())
        )

    def get_changelist(self, request, **kwargs):
        return DossierChangeList

    def changelist_view(self, request, extra_context=None):
        worklists = selectors.worklists_for(request.user)
        if request.method == "GET" and not request.GET and worklists:
            # A bare list shows the role's main worklist (reception: "Chờ tiếp nhận"; specialist: "Hồ sơ
            # tôi đang giữ"; leader: "Chờ ký duyệt"), as if chosen; "Tất cả hồ sơ" is ?worklist=all.
            request.GET = QueryDict(urlencode({WorklistFilter.parameter_name: worklists[0]}))
        worklist = request.GET.get(WorklistFilter.parameter_name)
        title = _("Hồ sơ")
        if worklist in selectors.WORKLISTS:
            title = f"{title}: {selectors.WORKLISTS[worklist]}"
        elif request.GET.get(IndicatorFilter.parameter_name) in INDICATOR_LABELS:
            title = f"{title}: {INDICATOR_LABELS[request.GET[IndicatorFilter.parameter_name]]}"
            if not (request.user.is_superuser or request.user.has_perm("dossiers.view_all_dossiers")):
                # The dashboard counts the whole province; this list shows only what the officer may see.
                messages.info(
                    request,
                    _(
                        "Danh sách chỉ gồm các hồ sơ ông/bà được xem (hồ sơ đang ở phòng ban của mình), "
                        "nên có thể ít hơn con số trên bảng số liệu."
                    ),
                )
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def get_search_results(self, request, queryset, search_term):
        code = search_term.strip().upper()
        if codes.is_code(code):  # a whole code (typed or scanned): its unique index, not the trigrams
            return queryset.filter(code=code), False
        term = fold(search_term)
        if not term:
            return queryset, False
        for word in term.split():
            queryset = queryset.filter(search_text__contains=word)
        return queryset, False

    # --- permissions: nobody edits fields; actions go through services ---

    def has_add_permission(self, request):
        # Intake is the counter's: an officer of a one-stop-shop department with the permission.
        # A staff account without an officer profile may not receive (it is never "the system").
        return workflow.may_perform(selectors.officer_of(request.user), "receive")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- views ---

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<int:pk>/action/<str:action>/",
                self.admin_site.admin_view(self.action_view),
                name=f"{prefix}_action",
            ),
            path(
                "<int:pk>/print/<str:form>/",
                self.admin_site.admin_view(self.print_view),
                name=f"{prefix}_print",
            ),
            path("register/", self.admin_site.admin_view(self.register_view), name=f"{prefix}_register"),
            *super().get_urls(),
        ]

    def _dossier_for(self, request, pk):
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        dossier = self._dossier_for(request, object_id)
        if request.method == "GET":
            access.record(request, AccessKind.VIEW, dossier)
        # Only the buttons this officer may actually press: the same table the services enforce.
        actions = workflow.actions_for(selectors.officer_of(request.user), dossier)
        printable = [
            (key, title) for key, (_template, title) in printing.FORMS.items() if printing.form_applies(dossier, key)
        ]
        extra = {"dossier_actions": actions, "printable_forms": printable, "dossier": dossier}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def action_view(self, request, pk, action):
        if action not in workflow.ACTIONS:
            raise Http404(_("Không có thao tác này."))
        spec = workflow.ACTIONS[action]
        dossier = self._dossier_for(request, pk)
        officer = selectors.officer_of(request.user)
        # Seeing the dossier is not enough: the permission and a performer's place in the table.
        if not workflow.may_perform(officer, action, dossier):
            raise PermissionDenied
        form_class = form_for(action)
        change_url = reverse("admin:dossiers_dossier_change", args=[dossier.pk])
        if request.method == "POST":
            form = form_class(request.POST, dossier=dossier)
            if form.is_valid():
                try:
                    services.ACTION_FUNCTIONS[action](dossier, officer, **form.service_kwargs())
                except services.StaleDossier as exc:
                    messages.error(request, exc.message)
                    return HttpResponseRedirect(change_url)
                except services.WorkflowError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(
                        request,
                        _("Đã %(action)s hồ sơ %(code)s.") % {"action": spec.label.lower(), "code": dossier.code},
                    )
                    return HttpResponseRedirect(change_url)
        else:
            if not workflow.is_allowed(action, dossier.status):
                messages.error(
                    request,
                    _("Không thể “%(action)s” khi hồ sơ đang ở trạng thái “%(status)s”.")
                    % {"action": spec.label, "status": dossier.get_status_display()},
                )
                return HttpResponseRedirect(change_url)
            form = form_class(initial={"version": dossier.version}, dossier=dossier)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{spec.label}: {dossier.code}",
            "dossier": dossier,
            "form": form,
            "action": spec,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/dossiers/dossier/action_form.html", context)

    def print_view(self, request, pk, form):
        if not self.has_view_permission(request):
            raise PermissionDenied
        dossier = self._dossier_for(request, pk)
        response = printing.render_form(request, dossier, form)
        access.record(request, AccessKind.PRINT, dossier, form)
        return response

    def register_view(self, request):
        """Mẫu số 06 Sổ theo dõi hồ sơ of a reception point over a period: printable page or Excel."""
        response = registers.register_view(request, self)
        if response.status_code == 200 and request.GET.get("point"):
            detail = "&".join(f"{key}={request.GET.get(key, '')}" for key in ("point", "start", "end", "format"))
            access.record(request, AccessKind.REGISTER, detail=detail)
        return response

    def add_view(self, request, form_url="", extra_context=None):
        """Tiếp nhận hồ sơ: choose the procedure, then the applicant and the papers handed in."""
        if not self.has_add_permission(request):
            raise PermissionDenied  # also refuses a staff account without an officer profile
        officer = selectors.officer_of(request.user)
        procedure = None
        chooser = ProcedureChoiceForm(request.GET or None)
        if chooser.is_valid():
            procedure = chooser.cleaned_data["procedure"]
        form = None
        if procedure is not None:
            form = IntakeForm(request.POST or None, procedure=procedure)
            if request.method == "POST" and form.is_valid():
                try:
                    dossier = services.receive_dossier(
                        officer=officer,
                        procedure=procedure,
                        applicant=form.applicant(),
                        components=form.components(),
                        channel=form.cleaned_data["channel"],
                        **form.notes(),
                    )
                except services.WorkflowError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(
                        request,
                        _("Đã tiếp nhận hồ sơ %(code)s, hẹn trả ngày %(date)s.")
                        % {"code": dossier.code, "date": f"{dossier.appointment_date:%d/%m/%Y}"},
                    )
                    return HttpResponseRedirect(reverse("admin:dossiers_dossier_change", args=[dossier.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Tiếp nhận hồ sơ"),
            "chooser": chooser,
            "procedure": procedure,
            "form": form,
        }
        return TemplateResponse(request, "admin/dossiers/dossier/intake.html", context)


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    """Nhật ký truy cập dữ liệu cá nhân: read-only, for the province admin."""

    list_display = ("at", "username", "kind", "dossier", "detail", "address")
    list_filter = ("kind",)
    search_fields = ("username", "dossier__code")
    list_select_related = ("dossier",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
