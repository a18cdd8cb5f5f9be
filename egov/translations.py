"""Translations remembered per language for the process's life, for the citizens' hot pages.

Django looks the active translation up on every gettext call, which on a cold status page costs as
much as its database statement; the pages' fixed words (a template's literal strings, the labels
modules hold as lazy translations) are the same on every page, so each is translated once per
language and process."""

from django.utils.translation import override

_remembered = {}  # (language, key) → text


def remembered(language, key, translate) -> str:
    """`translate()` run under `language` once for each (language, key), then its answer again. `key`
    names something fixed for the process's life (a literal string, the id of a module's lazy label)."""
    text = _remembered.get((language, key))
    if text is None:
        with override(language):
            text = _remembered[(language, key)] = translate()
    return text
