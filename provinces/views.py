from django.db import connection
from django.shortcuts import render

from .selectors import listed_provinces
from .services import province_url


def landing(request):
    """National landing page: every province, with a link to its portal."""
    provinces = [{"province": p, "url": province_url(p)} for p in listed_provinces()]
    return render(request, "provinces/landing.html", {"provinces": provinces})


def province_home(request):
    """A province's home page: where citizens and officers start."""
    return render(request, "provinces/home.html", {"province": connection.tenant})
