from django.shortcuts import render

from . import selectors


def current_warnings(request):
    """Public page: warnings and notices in force, newest first."""
    response = render(request, "broadcasts/current.html", {"warnings": selectors.current_warnings()})
    response["Cache-Control"] = "public, max-age=30"
    return response
