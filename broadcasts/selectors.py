from django.utils import timezone

from .models import Broadcast, State


def current_warnings():
    """Warnings and notices in force, newest first (the public page)."""
    return Broadcast.objects.filter(state__in=(State.SENDING, State.SENT), expires_at__gt=timezone.now()).order_by(
        "-approved_at"
    )
