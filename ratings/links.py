"""The citizen's rating page: under their dossier's lookup token (revoked with it)."""

from dossiers.links import lookup_url


def rating_url(dossier) -> str:
    return lookup_url(dossier) + "danh-gia/"
