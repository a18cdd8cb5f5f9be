from django.shortcuts import render
from django.utils import timezone

from .models import Broadcast, State


def current_warnings(request):
    """Public page: warnings and notices in force, newest first."""
    warnings = Broadcast.objects.filter(state__in=(State.SENDING, State.SENT), expires_at__gt=timezone.now()).order_by(
        "-approved_at"
    )
    response = render(request, "broadcasts/current.html", {"warnings": warnings})
    response["Cache-Control"] = "public, max-age=30"
    return response
