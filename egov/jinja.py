"""The Jinja2 environment of the citizens' pages (jinja2/: the status page and the pages around it).

The QR status page is the one page a results-day rush renders cold for every scan; Django's template
engine cost as much as the rest of the request. Jinja2 compiles a template to Python once. What the
pages use of Django's template language is given here: `_()` (Django's gettext, so the strings are in
the same catalogues and `makemessages` finds `_("…")` in these files as in Django's templates),
`capfirst`, and `date` (Django's filter, in the active time zone). Escaping is on, as in Django, and
`a.b` looks a dict's key up before its attributes, as Django's templates do.

A page whose language is known before it is rendered (the status page) takes its template from
`in_language(language)`: there each `_("…")` of a literal string was translated once, when the
template was compiled, so the page holds the words as text rather than calling `_` for each."""

import json
import re

from django.template.defaultfilters import date as date_filter
from django.utils.text import capfirst
from django.utils.timezone import template_localtime
from django.utils.translation import get_language, gettext, ngettext
from jinja2.ext import Extension

from jinja2 import Environment, pass_context

from .translations import remembered


@pass_context
def _gettext(context, message):
    """Django's gettext of a literal string of a template, once per language and process
    (egov/translations.py). The language is the page's (LANGUAGE_CODE, given by the view or the i18n
    context processor)."""
    return translator(context.get("LANGUAGE_CODE") or get_language())(message)


def translator(language):
    """`_` for a page whose language is known before it is rendered (the status page): a plain function
    of the message, translated once per language and process as `_gettext` does. Given in the render's
    context, it stands for the global `_`, without asking the context for the language at each call."""
    found = _translators.get(language)
    if found is None:

        def found(message):
            return remembered(language, message, lambda: gettext(message))

        _translators[language] = found
    return found


_translators = {}


def _date(value, format_string=None):
    return date_filter(template_localtime(value), format_string)


# `_("…")` of a double-quoted literal without backslashes; any other call of `_` stays a call.
_LITERAL_CALL = re.compile(r'(?<![\w.])_\(\s*"([^"\\]*)"\s*\)')


def translate_literals(source, word):
    """`source` with each `_("literal")` replaced by `word(literal)` as a Jinja2 string literal (quotes,
    backslashes and control characters escaped), so that the template compiles the translation as
    constant text: escaped once at compile time, no call when the page is rendered."""
    return _LITERAL_CALL.sub(lambda found: json.dumps(word(found.group(1)), ensure_ascii=False), source)


class _TranslatedLiterals(Extension):
    """Before a template of a language's environment is compiled, its literal `_("…")` are translated."""

    def preprocess(self, source, name, filename=None):
        return translate_literals(source, translator(self.environment.language))


class _Environment(Environment):
    language = None  # of `in_language`'s environments: the language their literals were translated into

    def in_language(self, language):
        """This environment for pages in `language`: the same loader, globals and filters, its own
        compiled templates, whose literal `_("…")` are the words in `language` (`translate_literals`).
        The render must still give `_` for anything else (`translator(language)`)."""
        if language is None:
            return self
        found = self._languages.get(language)
        if found is None:
            found = self.overlay(extensions=[_TranslatedLiterals])
            found.language = language
            found._languages = {}
            self._languages[language] = found
        return found

    def getattr(self, obj, attribute):
        """`obj.attribute` in a template: a dict's key first, then an attribute, as Django's templates
        look names up. Jinja tries the attribute first; on the status page, whose payload is dicts, that
        was an AttributeError raised and caught for every field shown, a third of the page's rendering."""
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def environment(**options):
    options.pop("autoescape", None)  # Django passes True; escaping is never left to a setting
    env = _Environment(autoescape=True, **options)
    env._languages = {}
    env.globals.update({"_": _gettext, "gettext": gettext, "ngettext": ngettext})
    env.filters.update({"capfirst": capfirst, "date": _date})
    return env
