from django.db import connection
from django.shortcuts import render
from django.urls import reverse

from .selectors import listed_provinces
from .services import province_url

# A Zalo Official Account's public page, where a citizen follows it (and then gets news of their dossiers).
ZALO_OA_PAGE = "https://zalo.me/{oa_id}"


def landing(request):
    """National landing page: every province, with a link to its portal."""
    provinces = [{"province": p, "url": province_url(p)} for p in listed_provinces()]
    return render(request, "provinces/landing.html", {"provinces": provinces})


def zalo_official_account():
    """The province's Zalo OA for citizens to follow, if it is connected (and its connection works); else None."""
    from zalo.accounts import current_account

    account = current_account()
    if account is None or not account.oa_id or not account.access_token or account.refresh_error:
        return None
    return {"name": account.name or account.oa_id, "url": ZALO_OA_PAGE.format(oa_id=account.oa_id)}


def province_home(request):
    """A province's home page: where citizens and officers start.

    Citizens: look a dossier up, read the warnings in force, follow the province on Zalo.
    Officers: the admin."""
    from broadcasts.selectors import current_warnings

    context = {
        "province": connection.tenant,
        "lookup_url": reverse("lookup"),
        "warnings_url": reverse("warnings"),
        "warnings_count": current_warnings().count(),
        "zalo_oa": zalo_official_account(),
        "admin_url": reverse("admin:index"),
    }
    return render(request, "provinces/home.html", context)
