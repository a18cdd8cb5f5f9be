"""The Jinja2 environment of the citizens' pages (jinja2/: the status page and the pages around it).

The QR status page is the one page a results-day rush renders cold for every scan; Django's template
engine cost as much as the rest of the request. Jinja2 compiles a template to Python once. What the
pages use of Django's template language is given here: `_()` (Django's gettext, so the strings are in
the same catalogues and `makemessages` finds `_("…")` in these files as in Django's templates),
`capfirst`, and `date` (Django's filter, in the active time zone). Escaping is on, as in Django."""

from django.template.defaultfilters import date as date_filter
from django.utils.text import capfirst
from django.utils.timezone import template_localtime
from django.utils.translation import get_language, gettext, ngettext

from jinja2 import Environment, pass_context

from .translations import remembered


@pass_context
def _gettext(context, message):
    """Django's gettext of a literal string of a template, once per language and process
    (egov/translations.py). The language is the page's (LANGUAGE_CODE, given by the view or the i18n
    context processor)."""
    return remembered(context.get("LANGUAGE_CODE") or get_language(), message, lambda: gettext(message))


def _date(value, format_string=None):
    return date_filter(template_localtime(value), format_string)


def environment(**options):
    options.pop("autoescape", None)  # Django passes True; escaping is never left to a setting
    env = Environment(autoescape=True, **options)
    env.globals.update({"_": _gettext, "gettext": gettext, "ngettext": ngettext})
    env.filters.update({"capfirst": capfirst, "date": _date})
    return env
