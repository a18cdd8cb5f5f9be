from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from dossiers.admin import DossierAdmin

from . import delivery, texts
from .models import Kind, MessageText, Notification, State


class MessageTextForm(forms.ModelForm):
    """Only the kind's own placeholders, written {name}; no format specs; at most texts.MAX_LENGTH characters."""

    class Meta:
        model = MessageText
        fields = ("kind", "text")

    def clean(self):
        data = super().clean()
        kind, text = data.get("kind"), data.get("text")
        if kind and text is not None:
            try:
                texts.validate(kind, text)
            except ValidationError as exc:
                self.add_error("text", exc)
        return data


@admin.register(MessageText)
class MessageTextAdmin(admin.ModelAdmin):
    form = MessageTextForm
    list_display = ("kind", "text", "preview")
    readonly_fields = ("placeholders", "preview")
    fields = ("kind", "text", "placeholders", "preview")

    @admin.display(description=_("chỗ điền được dùng"))
    def placeholders(self, obj):
        if obj is None or not obj.kind:
            return "; ".join(
                f"{label}: {', '.join('{' + n + '}' for n in texts.PLACEHOLDERS[kind])}" for kind, label in Kind.choices
            )
        return ", ".join("{" + name + "}" for name in texts.PLACEHOLDERS.get(obj.kind, ()))

    @admin.display(description=_("xem trước (hồ sơ mẫu)"))
    def preview(self, obj):
        if obj is None or not obj.kind or obj.kind not in texts.PLACEHOLDERS:
            return "—"
        rendered, error = texts.preview(obj.kind, obj.text)
        if error:
            return format_html('<strong class="errornote">{}</strong> {}', _("Không dùng được:"), error)
        return rendered

    def changelist_view(self, request, extra_context=None):
        for label, error in texts.broken_texts():
            messages.warning(
                request,
                _("Nội dung tin “%(kind)s” không dùng được, tin nhắn đang gửi nội dung mặc định: %(error)s")
                % {"kind": label, "error": error},
            )
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, object_id)
            if obj is not None and obj.kind in texts.PLACEHOLDERS:
                _rendered, error = texts.preview(obj.kind, obj.text)
                if error:
                    messages.warning(request, _("Nội dung đang lưu không dùng được: %(error)s") % {"error": error})
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "dossier", "kind", "state", "channel", "attempts", "last_error", "delivered_at")
    list_filter = ("state", "kind", "channel")
    search_fields = ("dossier__code", "tracking_id")
    readonly_fields = [f.name for f in Notification._meta.fields] + ["attempts_list"]
    actions = ["resend"]

    @admin.display(description=_("các lần gửi"))
    def attempts_list(self, obj):
        return "\n".join(
            f"{a.at:%d/%m/%Y %H:%M} {a.channel} {a.outcome} {a.error_code or ''} {a.error}"
            for a in obj.attempt_log.all()
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Gửi lại tin lỗi"), permissions=["view"])
    def resend(self, request, queryset):
        count = 0
        for row in queryset.filter(state__in=(State.FAILED, State.NO_CHANNEL)):
            delivery.requeue_failed(row)
            count += 1
        messages.info(request, _("Đã xếp lại %d tin để gửi.") % count)


class NotificationInline(admin.TabularInline):
    """Tin nhắn Zalo của hồ sơ: shown on the dossier page for the officer."""

    model = Notification
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "state", "channel", "attempts", "last_error", "delivered_at", "seen_at")
    readonly_fields = fields
    verbose_name_plural = _("Tin nhắn Zalo cho công dân")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("dossiers.view_dossier")


DossierAdmin.inlines = [*DossierAdmin.inlines, NotificationInline]
