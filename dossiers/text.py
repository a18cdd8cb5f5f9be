"""Text helpers for Vietnamese: diacritic-insensitive search keys and masked names."""

import unicodedata


def fold(value: str) -> str:
    """Lower-case, without diacritics: "Nguyễn Văn Đức" → "nguyen van duc"."""
    value = (value or "").replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", value)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(stripped.lower().split())


def mask_name(full_name: str) -> str:
    """Public form of a name: family name, initials of the others: "Nguyễn Văn An" → "Nguyễn V. A."."""
    parts = (full_name or "").split()
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0][0] + "."
    return " ".join([parts[0], *(p[0] + "." for p in parts[1:])])
