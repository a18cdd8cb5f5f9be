"""The audit of officers' access to citizens' personal data: who opened which dossier, form or register.

Every officer path that shows an applicant's ID number, phone or address calls `record` once it has
decided to show it (a refused request records nothing). The rows are append-only."""

from egov.ratelimit import client_address

from .models import AccessKind, PersonalDataAccess


def record(request, kind: AccessKind, dossier=None, detail: str = "") -> PersonalDataAccess | None:
    user = request.user
    if not user.is_authenticated:
        return None
    return PersonalDataAccess.objects.create(
        user=user,
        username=user.get_username(),
        kind=kind,
        dossier=dossier,
        detail=detail[:300],
        address=client_address(request),
    )
