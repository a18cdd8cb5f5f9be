"""The citizens' pages' Jinja2 environment (egov/jinja.py): names looked up as Django's templates look
them up, and the status page's `_` bound to its language saying what the global `_` says."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.utils import translation

from egov.jinja import translator

TEMPLATES = Path(settings.BASE_DIR) / "jinja2"


def render(source, **context):
    return engines["jinja2"].from_string(source).render(context)


class Officer:
    name = "Trần Thị B"


def test_a_dicts_key_comes_before_its_attributes_as_in_djangos_templates():
    assert render("{{ d.items }}|{{ d.code }}", d={"items": "giấy tờ", "code": "H20"}) == "giấy tờ|H20"
    assert render("{{ o.name }}", o=Officer()) == "Trần Thị B"  # an object's attribute as before
    assert render("{{ d.missing }}|{{ d.missing is defined }}", d={"code": "H20"}) == "|False"
    assert render("{{ d.keys()|join(',') }}", d={"code": "H20"}) == "code"  # a method no key shadows
    assert render("{{ d.code }}", d={"code": "<b>"}) == "&lt;b&gt;"  # escaped as before


def _literals():
    found = set()
    for template in TEMPLATES.rglob("*.html"):
        found |= set(re.findall(r'_\("([^"]+)"\)', template.read_text()))
    return sorted(found)


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_the_bound_translator_says_what_the_global_one_says(language):
    literals = _literals()
    assert len(literals) > 20  # the templates' words were found
    bound = translator(language)
    page = engines["jinja2"].from_string("{{ _(m) }}")
    with translation.override(language):
        for message in literals:
            # The global `_` (the page's language from the context), and `_` given in the context.
            expected = page.render({"m": message, "LANGUAGE_CODE": language})
            assert page.render({"m": message, "_": bound}) == expected, message
    if language == "en":
        assert bound("Tra cứu hồ sơ") != "Tra cứu hồ sơ"  # translated, not passed through
