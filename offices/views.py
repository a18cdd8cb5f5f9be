"""Officer login pages outside the ModelAdmins: the lockout page and "Xác thực hai bước"."""

import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import get_public_schema_name

from . import services
from .forms import EnrolForm
from .security import base32_secret, confirmed_device, requires_second_factor, verify_code


def _admin_site():
    if connection.schema_name == get_public_schema_name():
        from egov.admin_sites import national_admin_site

        return national_admin_site
    return admin.site


def lockout(request, response=None, credentials=None, *args, **kwargs):
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): a Vietnamese page with status 429."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        **_admin_site().each_context(request),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": minutes,
        "cooloff_timedelta": settings.AXES_COOLOFF_TIME,
    }
    answer = render(request, "admin/lockout.html", context, status=429)
    answer["Retry-After"] = str(minutes * 60)
    return answer


def _qr_svg(text):
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def _next_url(request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("admin:index")


def two_factor(request):
    """Xác thực hai bước: scan the QR code, type the current code, the authenticator is confirmed.

    Available to every officer; admins and leaders are sent here until it is done. Re-enrolling
    (a new phone) needs a session already verified with the current authenticator.
    """
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    current = confirmed_device(user)
    verified = user.is_verified()
    if current is not None and not verified:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))

    starting = current is None or request.POST.get("start") == "1" or request.GET.get("moi") == "1"
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if starting and pending is None:
        pending = TOTPDevice.objects.create(user=user, name=_("Ứng dụng xác thực"), confirmed=False)

    form = EnrolForm(request.POST or None) if "otp_token" in request.POST else EnrolForm()
    if pending is not None and request.method == "POST" and "otp_token" in request.POST and form.is_valid():
        device = verify_code(pending, form.cleaned_data["otp_token"])
        if device is None:
            form.add_error("otp_token", _("Mã không đúng. Kiểm tra giờ của điện thoại rồi nhập mã mới."))
        else:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            otp_login(request, device)
            services.record_enrolment(user)
            messages.success(request, _("Đã bật xác thực hai bước. Từ nay đăng nhập cần mã 6 số trên ứng dụng."))
            return HttpResponseRedirect(_next_url(request))

    show_enrolment = pending is not None and (current is None or starting or "otp_token" in request.POST)
    context = {
        **_admin_site().each_context(request),
        "title": _("Xác thực hai bước"),
        "current": current,
        "required": requires_second_factor(user),
        "pending": pending if show_enrolment else None,
        "qr_svg": _qr_svg(pending.config_url) if show_enrolment else "",
        "secret": base32_secret(pending) if show_enrolment else "",
        "form": form,
        "next": request.GET.get("next") or request.POST.get("next") or "",
    }
    return render(request, "admin/offices/two_factor.html", context)
