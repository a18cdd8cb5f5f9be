"""The province admins see, on every admin page, that the Zalo OA connection is broken (until a refresh works)."""

from django.db import connection
from django.urls import reverse
from django_tenants.utils import get_public_schema_name


def zalo_connection(request):
    """`zalo_connection_problem` = {error, failed_at, url} when the OA's last token refresh failed.

    Only on the province's admin pages, only for those who manage the OA (the province admins).
    Cleared by the next successful refresh (zalo.accounts.refresh).
    """
    user = getattr(request, "user", None)
    if (
        connection.schema_name == get_public_schema_name()
        or not request.path.startswith(reverse("admin:index"))  # every page under the admin, its own too
        or user is None
        or not user.is_authenticated
        or not user.is_staff
        or not user.has_perm("zalo.change_zaloaccount")
    ):
        return {}
    from .accounts import current_account

    account = current_account()
    if account is None or not account.refresh_error:
        return {}
    return {
        "zalo_connection_problem": {
            "error": account.refresh_error,
            "failed_at": account.refresh_failed_at,
            "url": reverse("admin:zalo_zaloaccount_change", args=[account.pk]),
        }
    }
