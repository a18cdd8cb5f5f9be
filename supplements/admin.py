"""The officers' review of files citizens sent online (issue 13.2), on the dossier's own admin page.

The dossier page shows, while a supplement request is open, each missing item next to the files that
arrived for it (`templatetags/supplement_review.py`); its decisions are posted to `review_view` here,
which calls `supplements.services` only. Files are opened through the permission-checked, audited view
of `supplements.views`, never from storage directly.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _

from dossiers import selectors
from dossiers import services as dossier_services

from . import services
from .models import FileState, SupplementFile

ACCEPT, REFUSE = "accept", "refuse"


def decisions_from(post, files):
    """(files to accept, [(file, reason)] to refuse, errors) from the review form, for the files on the page."""
    accept, refuse, errors = [], [], []
    for file in files:
        decision = post.get(f"decision_{file.pk}", "")
        if decision == ACCEPT:
            accept.append(file)
        elif decision == REFUSE:
            reason = " ".join(post.get(f"reason_{file.pk}", "").split())
            if not reason:
                errors.append(_("Chưa ghi lý do không chấp nhận tệp “%(name)s”.") % {"name": file})
            refuse.append((file, reason))
    return accept, refuse, errors


@admin.register(SupplementFile)
class SupplementFileAdmin(admin.ModelAdmin):
    """No list or form of its own (files are seen on their dossier's page); only the review's POST."""

    def has_module_permission(self, request):
        return False

    def has_view_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("review/<int:dossier_pk>/", self.admin_site.admin_view(self.review_view), name=f"{prefix}_review"),
        ]

    def review_view(self, request, dossier_pk):
        """The officer's decisions on the files of the dossier's open request, then `finish_review`: in one
        transaction, so a stale page or a refused step changes nothing."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        dossier = get_object_or_404(selectors.visible_dossiers(request.user), pk=dossier_pk)
        officer = selectors.officer_of(request.user)
        # Seeing the dossier is not enough: the rule of receiving a supplement (permission and place).
        if not services.may_review(officer, dossier):
            raise PermissionDenied
        change_url = reverse("admin:dossiers_dossier_change", args=[dossier.pk])
        supplement = services.open_request(dossier)
        if supplement is None or str(supplement.pk) != request.POST.get("request", ""):
            messages.error(request, _("Yêu cầu bổ sung này đã kết thúc hoặc đã thay đổi; hãy kiểm tra lại trang."))
            return HttpResponseRedirect(change_url)
        shown = [pk for pk in request.POST.getlist("file") if pk.isdigit()]
        files = list(SupplementFile.objects.filter(request=supplement, pk__in=shown).order_by("pk"))
        accept, refuse, errors = decisions_from(request.POST, files)
        if errors:
            for error in errors:
                messages.error(request, error)
            return HttpResponseRedirect(change_url)
        version = request.POST.get("version") or None
        if version is not None and not version.isdigit():
            raise PermissionDenied
        try:
            with transaction.atomic():
                if accept:
                    services.accept_files(accept, officer, expected_version=version)
                for file, reason in refuse:
                    services.refuse_file(file, officer, reason, expected_version=version)
                outcome = services.finish_review(supplement, officer, expected_version=version)
        except dossier_services.WorkflowError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(change_url)
        if outcome == services.Review.RECEIVED:
            dossier.refresh_from_db()
            messages.success(
                request,
                _("Đã chấp nhận đủ giấy tờ bổ sung và nhận hồ sơ bổ sung %(code)s; ngày hẹn trả: %(date)s.")
                % {"code": dossier.code, "date": f"{dossier.appointment_date:%d/%m/%Y}"},
            )
        elif outcome == services.Review.TOLD:
            messages.success(
                request,
                _("Đã ghi nhận; công dân được báo một lần, bằng tin nhắn, mọi giấy tờ còn thiếu của hồ sơ %(code)s.")
                % {"code": dossier.code},
            )
        elif accept:
            messages.success(request, _("Đã chấp nhận %(count)d tệp.") % {"count": len(accept)})
        else:
            messages.info(request, _("Chưa có quyết định nào về giấy tờ gửi trực tuyến."))
        return HttpResponseRedirect(change_url)


def review_state(dossier, officer):
    """What the dossier page shows of the files sent online: the open request (or, after it, the latest one
    with files, read-only), each of its items with its files, and the files whose item is not known yet."""
    supplement = services.open_request(dossier)
    can_review = supplement is not None and services.may_review(officer, dossier)
    if supplement is None:
        supplement = dossier.supplement_requests.filter(files__isnull=False).order_by("-requested_at", "-id").first()
        if supplement is None:
            return None
    files = list(SupplementFile.objects.filter(request=supplement).order_by("created_at", "id"))
    accepted = {f.item_id for f in files if f.state == FileState.ACCEPTED}
    items = [
        {
            "item": item,
            "files": [f for f in files if f.item_id == item.pk],
            "accepted": item.pk in accepted,
        }
        for item in supplement.items.order_by("id")
    ]
    return {
        "request": supplement,
        "open": supplement.received_at is None,
        "can_review": can_review,
        "items": items,
        "unassigned": [f for f in files if f.item_id is None],
        "pending": sum(f.state == FileState.RECEIVED for f in files),
        "all_accepted": all(entry["accepted"] for entry in items),
    }
