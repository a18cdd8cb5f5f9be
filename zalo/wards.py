"""The province's wards (vietnam-provinces), matched the way citizens type them."""

from functools import lru_cache

from vietnam_provinces import Ward

from dossiers.text import fold
from provinces.selectors import current_province

PREFIXES = ("phuong ", "xa ", "dac khu ", "thi tran ")


def _key(name):
    folded = fold(name)
    for prefix in PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix) :]
    return folded


@lru_cache(maxsize=64)
def wards_of(admin_code):
    """[(code, name)] of a province's wards, empty when the province has no administrative code."""
    if not admin_code:
        return ()
    return tuple((str(int(w.code)), " ".join(w.name.split())) for w in Ward.iter_by_province(int(admin_code)))


def province_wards():
    return wards_of(current_province().admin_code)


def find_ward(text):
    """The ward the citizen means ("hai chau", "Phường Hải Châu", "P. Hải Châu"), or None."""
    wanted = _key(text.replace("P.", "Phường ").replace("p.", "phường "))
    if not wanted:
        return None
    for code, name in province_wards():
        if _key(name) == wanted:
            return code, name
    return None


def ward_name(code):
    return dict(province_wards()).get(str(code), str(code))
