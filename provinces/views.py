from django.db import connection
from django.shortcuts import render
from django.urls import reverse

from .selectors import listed_provinces
from .services import province_url


def landing(request):
    """National landing page: every province, with a link to its portal."""
    provinces = [{"province": p, "url": province_url(p)} for p in listed_provinces()]
    return render(request, "provinces/landing.html", {"provinces": provinces})


def province_home(request):
    """A province's home page: where citizens and officers start.

    Citizens: look a dossier up, read the warnings in force, follow the province on Zalo.
    Officers: the admin."""
    from broadcasts.selectors import current_warnings
    from zalo.accounts import followable_account

    context = {
        "province": connection.tenant,
        "lookup_url": reverse("lookup"),
        "warnings_url": reverse("warnings"),
        "warnings_count": current_warnings().count(),
        "zalo_oa": followable_account(),
        "admin_url": reverse("admin:index"),
    }
    return render(request, "provinces/home.html", context)
