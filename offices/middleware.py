"""Admins and leaders use the admin (and the API by session) only after a second factor."""

from django.conf import settings
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext

from .security import has_confirmed_device, requires_second_factor

# Pages an officer reaches before the second factor: log in, log out, enrol an authenticator.
EXEMPT_SUFFIXES = ("login/", "logout/", "xac-thuc-hai-buoc/", "jsi18n/")


class SecondFactorMiddleware:
    """After OTPMiddleware: a session that must be verified and is not gets no further.

    - no authenticator yet → the enrolment page "Xác thực hai bước" (nothing else until it is done);
    - an authenticator but an unverified session (e.g. a session made without the login form) →
      logged out and sent to the login page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        # Only a session can be unverified, and a request without the session cookie has none: its
        # user is anonymous. Not reading the session then spares the citizens' lookup API and the
        # officers' token calls a session load, and keeps `Vary: Cookie` off their answers.
        if (
            path.startswith(("/admin/", "/api/"))
            and not path.endswith(EXEMPT_SUFFIXES)
            and settings.SESSION_COOKIE_NAME in request.COOKIES
        ):
            user = request.user
            if user.is_authenticated and not user.is_verified() and requires_second_factor(user):
                return self._refuse(request, path, enrolled=has_confirmed_device(user))
        return self.get_response(request)

    def _refuse(self, request, path, *, enrolled):
        if path.startswith("/api/"):
            message = gettext("Tài khoản này cần đăng nhập bằng xác thực hai bước trước khi dùng API.")
            return JsonResponse({"error": {"code": "second_factor_required", "message": message}}, status=403)
        if enrolled:
            logout(request)
            return redirect(reverse("admin:login") + "?" + urlencode({"next": path}))
        return redirect(reverse("two-factor") + "?" + urlencode({"next": path}))
