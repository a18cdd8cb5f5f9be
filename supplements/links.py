"""The citizen's upload link: signed, expiring, for one dossier and one supplement request.

`/bo-sung/<dossier id>-<request id>:<timestamp>:<signature>/`. The signature's key names the dossier's
current lookup token too, so reissuing the receipt (a lost or stolen paper, `reissue_lookup_token`) voids
every upload link sent before. A link is good for `SUPPLEMENT_LINK_DAYS` days and only while its request is
still the dossier's open one: after the papers were received it opens nothing.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from dossiers.models import Dossier, SupplementRequest
from provinces.selectors import current_province
from provinces.services import province_url

SALT = "supplements.upload-link"
TOKEN_RE = re.compile(r"^(\d{1,12})-(\d{1,12}):[0-9A-Za-z]{1,12}:[0-9A-Za-z_-]{20,100}$")


def _signer(dossier: Dossier) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"{SALT}:{dossier.lookup_token}")


def upload_token(dossier: Dossier, request: SupplementRequest | None = None) -> str:
    from .services import open_request

    request = request or open_request(dossier)
    if request is None:
        return ""
    return _signer(dossier).sign(f"{dossier.pk}-{request.pk}")


def upload_path(dossier: Dossier, request: SupplementRequest | None = None) -> str:
    token = upload_token(dossier, request)
    return f"/bo-sung/{token}/" if token else ""


def upload_url(dossier: Dossier, request: SupplementRequest | None = None) -> str:
    """The absolute upload link of the dossier's open supplement request ("" when none is open)."""
    path = upload_path(dossier, request)
    return province_url(current_province(), path) if path else ""


@dataclass(frozen=True)
class Opened:
    dossier: Dossier
    request: SupplementRequest


def open_link(token: str) -> Opened | None:
    """The dossier and open request a link names, or None: malformed, tampered, expired, voided by a new
    receipt, or its request no longer open (all alike: the page says the same for each)."""
    from .services import open_request

    match = TOKEN_RE.match(token or "")
    if not match:
        return None
    dossier = Dossier.objects.filter(pk=int(match[1])).select_related("procedure").first()
    if dossier is None:
        return None
    try:
        _signer(dossier).unsign(token, max_age=settings.SUPPLEMENT_LINK_DAYS * 86400)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    request = open_request(dossier)
    if request is None or request.pk != int(match[2]):
        return None
    return Opened(dossier=dossier, request=request)
