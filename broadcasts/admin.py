"""Province admins compose, submit, approve (a second admin), follow progress, cancel, correct.

Nothing here writes a broadcast or the settings itself: the add and change forms and every button
call `broadcasts.services`, which audits each change. The change form carries the version it was
read at; a stale save is refused and changes nothing.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from offices.models import Officer
from zalo.wards import province_wards

from . import delivery, services
from .models import AuditEntry, Broadcast, BroadcastSettings, SettingsAuditEntry, State

STALE_FORM = _("Biểu mẫu đã cũ hoặc thiếu phiên bản; hãy tải lại trang rồi thao tác lại.")


def _officer(request):
    return getattr(request.user, "officer", None)


def _seen(form):
    """The version a change form was read at; a form without one counts as stale ("")."""
    seen = form.cleaned_data.get("seen_version")
    return "" if seen is None else seen


class BroadcastForm(forms.ModelForm):
    wards = forms.MultipleChoiceField(label=_("Phường, xã nhận tin"), required=False, choices=())
    link = forms.URLField(label=_("Đường dẫn"), required=False, assume_scheme="https")
    # The version of the broadcast this form was read at (optimistic locking).
    seen_version = forms.IntegerField(label=_("phiên bản"), widget=forms.HiddenInput, required=False)

    class Meta:
        model = Broadcast
        fields = services.EDITABLE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "wards" in self.fields:  # read-only once approved
            self.fields["wards"].choices = list(province_wards())
            self.fields["wards"].widget.attrs["size"] = 10
        if self.instance.pk is not None and "seen_version" in self.fields:
            self.fields["seen_version"].initial = self.instance.version

    def clean(self):
        data = super().clean()
        if self.instance.pk is not None and "seen_version" in self.fields:
            # An early, friendly check; the service checks again under the row lock.
            if data.get("seen_version") is None or data["seen_version"] != self.instance.version:
                raise forms.ValidationError(
                    gettext("Tin này vừa được người khác thay đổi; hãy tải lại trang, xem lại nội dung rồi sửa lại.")
                )
        return data


class ActionForm(forms.Form):
    """A confirmation that names the version of the broadcast (or settings) the admin saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, error_messages={"required": STALE_FORM})


class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("Lý do"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class CorrectionForm(ActionForm):
    cancellation = forms.BooleanField(label=_("Đây là thông báo hủy tin (không phải đính chính)"), required=False)
    title = forms.CharField(label=_("Tiêu đề"), max_length=130)
    body = forms.CharField(label=_("Nội dung"), widget=forms.Textarea(attrs={"rows": 4}))


ACTIONS = {
    # key: (label, form, service call)
    "submit": (_("Trình duyệt"), ActionForm, lambda b, o, d: services.submit(b, o, expected_version=d["version"])),
    "return_to_draft": (
        _("Đưa về bản nháp để sửa"),
        ReasonForm,
        lambda b, o, d: services.return_to_draft(b, o, d["reason"], expected_version=d["version"]),
    ),
    "approve": (
        _("Duyệt và gửi"),
        ActionForm,
        lambda b, o, d: services.approve(b, o, expected_version=d["version"]),
    ),
    "reject": (
        _("Từ chối"),
        ReasonForm,
        lambda b, o, d: services.reject(b, o, d["reason"], expected_version=d["version"]),
    ),
    "emergency": (
        _("Gửi khẩn cấp không chờ duyệt"),
        ReasonForm,
        lambda b, o, d: services.send_emergency_alone(b, o, d["reason"], expected_version=d["version"]),
    ),
    "cancel": (
        _("Hủy tin (dừng phần chưa gửi)"),
        ReasonForm,
        lambda b, o, d: services.cancel(b, o, d["reason"], expected_version=d["version"]),
    ),
    "correct": (
        _("Soạn tin đính chính / hủy"),
        CorrectionForm,
        lambda b, o, d: services.correction(b, o, title=d["title"], body=d["body"], cancellation=d["cancellation"]),
    ),
}
AVAILABLE = {
    State.DRAFT: ("submit", "emergency", "cancel"),
    State.SUBMITTED: ("approve", "reject", "return_to_draft", "emergency", "cancel"),
    State.REJECTED: ("return_to_draft",),
    State.APPROVED: ("cancel",),
    State.SENDING: ("cancel", "correct"),
    State.SENT: ("correct",),
}
AUDIT_LABELS = {
    "create": _("Soạn tin"),
    "edit": _("Sửa nội dung"),
    "return_to_draft": _("Đưa về bản nháp"),
    "submit": _("Trình duyệt"),
    "approve": _("Duyệt"),
    "reject": _("Từ chối"),
    "emergency_alone": _("Gửi khẩn cấp một người"),
    "cancel": _("Hủy tin"),
    "correct": _("Soạn tin đính chính / hủy"),
    "start": _("Bắt đầu gửi"),
    "fan_out": _("Lập danh sách người nhận"),
    "sent": _("Gửi xong"),
    "article_fallback": _("Không gửi được dạng bài viết: gửi từng người"),
    "rate_per_minute": _("Đổi giới hạn gửi mỗi phút"),
    "request_emergency_alone": _("Đề nghị bật gửi khẩn cấp một người"),
    "approve_emergency_alone": _("Duyệt đề nghị: bật gửi khẩn cấp một người"),
    "decline_emergency_alone": _("Rút/từ chối đề nghị bật gửi khẩn cấp một người"),
    "turn_off_emergency_alone": _("Tắt gửi khẩn cấp một người"),
    "national_emergency_alone_on": _("Quốc gia bật gửi khẩn cấp một người"),
    "national_emergency_alone_off": _("Quốc gia tắt gửi khẩn cấp một người"),
}


def _audit_label(action):
    return AUDIT_LABELS.get(action, action)


class AuditEntryForm(forms.ModelForm):
    class Meta:
        model = AuditEntry
        fields = ()
        labels = {"at": _("thời điểm"), "note": _("ghi chú")}  # the model's fields have no names of their own


class AuditInline(admin.TabularInline):
    model = AuditEntry
    form = AuditEntryForm
    extra = 0
    can_delete = False
    fields = ("at", "who", "what", "note")
    readonly_fields = fields
    verbose_name = _("nhật ký")
    verbose_name_plural = _("nhật ký")

    @admin.display(description=_("người thực hiện"))
    def who(self, entry):
        return entry.actor or gettext("hệ thống")

    @admin.display(description=_("thao tác"))
    def what(self, entry):
        return _audit_label(entry.action)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _NoLogWhenRefused:
    """A save the service refused (``request._broadcast_error``) writes no admin log entry."""

    def log_change(self, request, obj, message):
        if getattr(request, "_broadcast_error", None) is None:
            return super().log_change(request, obj, message)
        return None

    def log_addition(self, request, obj, message):
        if getattr(request, "_broadcast_error", None) is None:
            return super().log_addition(request, obj, message)
        return None


@admin.register(Broadcast)
class BroadcastAdmin(_NoLogWhenRefused, admin.ModelAdmin):
    form = BroadcastForm
    list_display = ("title", "category", "severity", "state", "created_by", "approved_by", "created_at", "percent")
    list_filter = ("state", "severity", "category")
    search_fields = ("title", "body")
    inlines = [AuditInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description=_("tiến độ"))
    def percent(self, obj):
        return f"{delivery.progress(obj)['percent']} %" if obj.state in (State.SENDING, State.SENT) else "—"

    @staticmethod
    def _editable(obj):
        return obj is None or obj.state in services.EDITABLE_STATES

    def get_fields(self, request, obj=None):
        if obj is not None and self._editable(obj):
            return [*services.EDITABLE_FIELDS, "seen_version"]
        return list(services.EDITABLE_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        return () if self._editable(obj) else list(services.EDITABLE_FIELDS)

    def save_model(self, request, obj, form, change):
        """Add and change both go through the services (never a save of the whole row)."""
        officer = _officer(request)
        data = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS if name in form.cleaned_data}
        try:
            if change:
                saved = services.edit(obj.pk, officer, expected_version=_seen(form), **data)
            else:
                saved = services.create(officer, **data)
        except services.BroadcastError as exc:
            request._broadcast_error = exc.message
            return
        obj.pk = saved.pk
        obj.refresh_from_db()

    def _refused(self, request, obj):
        messages.error(request, request._broadcast_error)
        if obj.pk is None:
            return HttpResponseRedirect(reverse("admin:broadcasts_broadcast_add"))
        return HttpResponseRedirect(reverse("admin:broadcasts_broadcast_change", args=[obj.pk]))

    def response_change(self, request, obj):
        if getattr(request, "_broadcast_error", None) is not None:
            return self._refused(request, obj)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_broadcast_error", None) is not None:
            return self._refused(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("<int:pk>/progress/", self.admin_site.admin_view(self.progress_view), name="broadcasts_progress"),
            path("<int:pk>/do/<str:action>/", self.admin_site.admin_view(self.action_view), name="broadcasts_do"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        b = get_object_or_404(Broadcast, pk=object_id)
        actions = [(key, ACTIONS[key][0]) for key in AVAILABLE.get(b.state, ())]
        excluded = Officer.objects.filter(pk__in=services.excluded_approvers(b)).select_related("user")
        extra = {
            "broadcast": b,
            "broadcast_actions": actions,
            "preview": delivery.message_text(b),
            "progress": delivery.progress(b),
            "ward_counts": delivery.per_ward_counts(b),
            "emergency_allowed": BroadcastSettings.current().allow_emergency_alone,
            "excluded_approvers": [str(o) for o in excluded],
            "editing_returns_to_draft": b.state in (State.SUBMITTED, State.REJECTED),
            "article_fallbacks": list(b.audit.filter(action="article_fallback").values_list("note", flat=True)),
        }
        if not self._editable(b):
            extra.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def progress_view(self, request, pk):
        if not request.user.has_perm("broadcasts.view_broadcast"):
            raise PermissionDenied
        return JsonResponse(delivery.progress(get_object_or_404(Broadcast, pk=pk)))

    def action_view(self, request, pk, action):
        if action not in ACTIONS:
            raise Http404
        if not request.user.has_perm("broadcasts.add_broadcast"):
            raise PermissionDenied
        b = get_object_or_404(Broadcast, pk=pk)
        label, form_class, call = ACTIONS[action]
        change_url = reverse("admin:broadcasts_broadcast_change", args=[b.pk])
        form = form_class(request.POST if request.method == "POST" else None, initial={"version": b.version})
        if request.method == "POST" and form.is_valid():
            try:
                result = call(b, _officer(request), form.cleaned_data)
            except services.BroadcastError as exc:
                messages.error(request, exc.message)
                return HttpResponseRedirect(change_url)
            messages.success(request, gettext("Đã thực hiện: %s.") % label)
            target = result if isinstance(result, Broadcast) else b
            return HttpResponseRedirect(reverse("admin:broadcasts_broadcast_change", args=[target.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{label}: {b.title}",
            "broadcast": b,
            "form": form,
            "label": label,
            "change_url": change_url,
            "preview": delivery.message_text(b),
        }
        return TemplateResponse(request, "admin/broadcasts/broadcast/action.html", context)


# --- the province's settings -------------------------------------------------------------------


class BroadcastSettingsForm(forms.ModelForm):
    seen_version = forms.IntegerField(label=_("phiên bản"), widget=forms.HiddenInput, required=False)

    class Meta:
        model = BroadcastSettings
        fields = ("rate_per_minute",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["seen_version"].initial = self.instance.version


SETTINGS_ACTIONS = {
    # key: (label, form, service call)
    "request": (
        _("Đề nghị bật gửi khẩn cấp một người"),
        ReasonForm,
        lambda o, d: services.request_emergency_alone(o, d["reason"], expected_version=d["version"]),
    ),
    "approve": (
        _("Duyệt đề nghị: bật gửi khẩn cấp một người"),
        ActionForm,
        lambda o, d: services.approve_emergency_alone(o, expected_version=d["version"]),
    ),
    "decline": (
        _("Rút/từ chối đề nghị"),
        ReasonForm,
        lambda o, d: services.decline_emergency_alone(o, d["reason"], expected_version=d["version"]),
    ),
    "turn_off": (
        _("Tắt gửi khẩn cấp một người"),
        ReasonForm,
        lambda o, d: services.turn_off_emergency_alone(o, d["reason"], expected_version=d["version"]),
    ),
}


def _settings_actions(s, officer):
    if s.allow_emergency_alone:
        return ["turn_off"]
    if s.emergency_alone_requested_by_id is None:
        return ["request"]
    mine = officer is not None and s.emergency_alone_requested_by_id == officer.pk
    return ["decline"] if mine else ["approve", "decline"]


@admin.register(BroadcastSettings)
class BroadcastSettingsAdmin(_NoLogWhenRefused, admin.ModelAdmin):
    """ "Emergency alone" is read-only here: it changes only through the request/approve buttons."""

    form = BroadcastSettingsForm
    list_display = ("__str__", "allow_emergency_alone", "rate_per_minute")
    readonly_fields = (
        "allow_emergency_alone",
        "emergency_alone_requested_by",
        "emergency_alone_requested_at",
        "emergency_alone_request_reason",
    )
    fields = ("rate_per_minute", "seen_version", *readonly_fields)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not BroadcastSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            saved = services.update_settings(
                _officer(request),
                rate_per_minute=form.cleaned_data["rate_per_minute"],
                expected_version=_seen(form) if change else None,
            )
        except services.BroadcastError as exc:
            request._broadcast_error = exc.message
            return
        obj.pk = saved.pk
        obj.refresh_from_db()

    def response_change(self, request, obj):
        if getattr(request, "_broadcast_error", None) is not None:
            messages.error(request, request._broadcast_error)
            return HttpResponseRedirect(reverse("admin:broadcasts_broadcastsettings_change", args=[obj.pk]))
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_broadcast_error", None) is not None:
            messages.error(request, request._broadcast_error)
            return HttpResponseRedirect(reverse("admin:broadcasts_broadcastsettings_changelist"))
        return super().response_add(request, obj, post_url_continue)

    def get_urls(self):
        return [
            path(
                "emergency/<str:action>/",
                self.admin_site.admin_view(self.emergency_view),
                name="broadcasts_settings_emergency",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        s = get_object_or_404(BroadcastSettings, pk=object_id)
        extra = {
            "settings_obj": s,
            "emergency_actions": [(key, SETTINGS_ACTIONS[key][0]) for key in _settings_actions(s, _officer(request))],
            "settings_audit": [
                (entry, _audit_label(entry.action)) for entry in SettingsAuditEntry.objects.order_by("-at", "-id")[:30]
            ],
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def emergency_view(self, request, action):
        if action not in SETTINGS_ACTIONS:
            raise Http404
        if not request.user.has_perm("broadcasts.change_broadcastsettings"):
            raise PermissionDenied
        s = BroadcastSettings.current()
        label, form_class, call = SETTINGS_ACTIONS[action]
        back = (
            reverse("admin:broadcasts_broadcastsettings_change", args=[s.pk])
            if s.pk
            else reverse("admin:broadcasts_broadcastsettings_changelist")
        )
        form = form_class(request.POST if request.method == "POST" else None, initial={"version": s.version})
        if request.method == "POST" and form.is_valid():
            try:
                saved = call(_officer(request), form.cleaned_data)
            except services.BroadcastError as exc:
                messages.error(request, exc.message)
                return HttpResponseRedirect(back)
            messages.success(request, gettext("Đã thực hiện: %s.") % label)
            return HttpResponseRedirect(reverse("admin:broadcasts_broadcastsettings_change", args=[saved.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": label,
            "settings_obj": s,
            "form": form,
            "label": label,
            "back_url": back,
        }
        return TemplateResponse(request, "admin/broadcasts/broadcastsettings/action.html", context)
