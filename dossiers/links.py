"""Links to a dossier that leave the portal: printed on receipts, sent in messages."""

from provinces.selectors import current_province
from provinces.services import province_url


def lookup_url(dossier) -> str:
    """The citizen's status lookup link (printed as the receipt's QR code); the token is unguessable."""
    return province_url(current_province(), f"/tra-cuu/{dossier.lookup_token}/")
