"""Province admins compose, submit, approve (a second admin), follow progress, cancel, correct."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from zalo.wards import province_wards

from . import delivery, services
from .models import AuditEntry, Broadcast, BroadcastSettings, State


class BroadcastForm(forms.ModelForm):
    wards = forms.MultipleChoiceField(label=_("Phường, xã nhận tin"), required=False, choices=())
    link = forms.URLField(label=_("Đường dẫn"), required=False, assume_scheme="https")

    class Meta:
        model = Broadcast
        fields = ("category", "severity", "title", "body", "link", "all_wards", "wards", "scheduled_at", "expires_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "wards" in self.fields:  # read-only once submitted
            self.fields["wards"].choices = list(province_wards())
            self.fields["wards"].widget.attrs["size"] = 10


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Lý do"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class CorrectionForm(forms.Form):
    cancellation = forms.BooleanField(label=_("Đây là thông báo hủy tin (không phải đính chính)"), required=False)
    title = forms.CharField(label=_("Tiêu đề"), max_length=130)
    body = forms.CharField(label=_("Nội dung"), widget=forms.Textarea(attrs={"rows": 4}))


ACTIONS = {
    # key: (label, form, service call)
    "submit": (_("Trình duyệt"), None, lambda b, o, d: services.submit(b, o)),
    "approve": (_("Duyệt và gửi"), None, lambda b, o, d: services.approve(b, o)),
    "reject": (_("Từ chối"), ReasonForm, lambda b, o, d: services.reject(b, o, d["reason"])),
    "emergency": (
        _("Gửi khẩn cấp không chờ duyệt"),
        ReasonForm,
        lambda b, o, d: services.send_emergency_alone(b, o, d["reason"]),
    ),
    "cancel": (_("Hủy tin (dừng phần chưa gửi)"), ReasonForm, lambda b, o, d: services.cancel(b, o, d["reason"])),
    "correct": (
        _("Soạn tin đính chính / hủy"),
        CorrectionForm,
        lambda b, o, d: services.correction(b, o, title=d["title"], body=d["body"], cancellation=d["cancellation"]),
    ),
}
AVAILABLE = {
    State.DRAFT: ("submit", "emergency", "cancel"),
    State.SUBMITTED: ("approve", "reject", "emergency", "cancel"),
    State.APPROVED: ("cancel",),
    State.SENDING: ("cancel", "correct"),
    State.SENT: ("correct",),
}


class AuditInline(admin.TabularInline):
    model = AuditEntry
    extra = 0
    can_delete = False
    fields = ("at", "actor", "action", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    form = BroadcastForm
    list_display = ("title", "category", "severity", "state", "created_by", "approved_by", "created_at", "percent")
    list_filter = ("state", "severity", "category")
    search_fields = ("title", "body")
    inlines = [AuditInline]

    @admin.display(description=_("tiến độ"))
    def percent(self, obj):
        return f"{delivery.progress(obj)['percent']} %" if obj.state in (State.SENDING, State.SENT) else "—"

    def get_readonly_fields(self, request, obj=None):
        if obj is None or obj.state == State.DRAFT:
            return ()
        return [f for f in BroadcastForm.Meta.fields]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = {f: form.cleaned_data.get(f) for f in BroadcastForm.Meta.fields}
        created = services.create(getattr(request.user, "officer", None), **data)
        obj.pk = created.pk

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
        extra = {
            "broadcast": b,
            "broadcast_actions": actions,
            "preview": delivery.message_text(b),
            "progress": delivery.progress(b),
            "ward_counts": delivery.per_ward_counts(b),
            "emergency_allowed": BroadcastSettings.current().allow_emergency_alone,
        }
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
        form = form_class(request.POST or None) if form_class else None
        if request.method == "POST" and (form is None or form.is_valid()):
            try:
                result = call(b, getattr(request.user, "officer", None), form.cleaned_data if form else {})
            except services.BroadcastError as exc:
                messages.error(request, exc.message)
                return HttpResponseRedirect(change_url)
            messages.success(request, _("Đã thực hiện: %s.") % label)
            target = result if isinstance(result, Broadcast) else b
            return HttpResponseRedirect(reverse("admin:broadcasts_broadcast_change", args=[target.pk]))
        if form is None and request.method != "POST":
            form = ReasonForm()  # a confirmation page with an optional note
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


@admin.register(BroadcastSettings)
class BroadcastSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "allow_emergency_alone", "rate_per_minute")
