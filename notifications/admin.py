from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from dossiers.admin import DossierAdmin

from . import delivery
from .models import MessageText, Notification, State


@admin.register(MessageText)
class MessageTextAdmin(admin.ModelAdmin):
    list_display = ("kind", "text")


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
