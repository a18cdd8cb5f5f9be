"""The citizens' pages' Jinja2 environment (egov/jinja.py): names looked up as Django's templates look
them up, the status page's `_` bound to its language saying what the global `_` says, and its
template compiled per language (literal `_("…")` translated at compile time) rendering what the
template with `_` called at each render renders."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.utils import translation

from egov.jinja import translate_literals, translator

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


# Words a translation could hold that would break a naive substitution: quotes, a backslash, markup,
# Jinja's own delimiters, a newline, a percent sign, Vietnamese.
TRICKY = 'Ông "Ba" \\ <b>&amp;</b> {{ x }} {% if %} }} \n 100% ' + "'hết' — Đã nhận"


def _tricky(message):
    return TRICKY.replace("%", "%%") + f"[{message}]"  # a percent sign doubled, as a translator writes it


def test_a_translated_literal_renders_exactly_as_the_call_did():
    source = (
        '<p title="{{ _("Mã hồ sơ") }}">{{ _( "Người nộp" ) }}|{{ x or _("Chưa chọn") }}|'
        '{{ _("kết quả đánh giá")|capfirst }}|{{ _("%(n)s phút") % {"n": 3} }}</p>'
    )
    env = engines["jinja2"].env
    called = env.from_string(source).render({"_": _tricky, "x": ""})
    compiled = env.from_string(translate_literals(source, _tricky)).render({"x": ""})  # no `_` at all
    assert compiled == called
    assert "&#34;Ba&#34;" in called and "&lt;b&gt;&amp;amp;&lt;/b&gt;" in called and "{{ x }}" in called
    assert "&#34;Ba&#34; \\ &lt;b&gt;" in called and "}} \n 100" in called  # one backslash, a real newline


def test_only_literal_calls_of_underscore_are_translated():
    kept = [
        "{{ _(m) }}",  # not a literal
        "{{ _('single quoted') }}",  # left as a call: still translated when rendered
        '{{ _("with \\" quote") }}',  # a backslash in the literal: left as a call
        '{{ obj._("x") }}',  # a method named _
        '{{ gettext_("x") }}',  # another name ending in _
        '_ ("x") in text',
    ]
    for source in kept:
        assert translate_literals(source, _tricky) == source
    assert translate_literals('{{ _("a") }}{{_("b")}}', str.upper) == '{{ "A" }}{{"B"}}'


def _a_full_status():
    """A status payload with every part of the page shown (supplement papers, fee, holder, grade, online
    files, a timeline), as `lookup` builds it."""
    return {
        "code": "000.00.14.H20-260112-0001",
        "procedure": {"code": "1.001", "name": "Cấp giấy phép xây dựng <nhà ở>"},
        "applicant": "N*** V*** A",
        "status": {"code": 10, "label": "Đã trả kết quả", "explanation": "Đã trả kết quả."},
        "holder": {"department": "Phòng Quản lý đô thị", "officer": "Trần Thị B", "title": "Chuyên viên"},
        "received_at": "08:00 12/01/2026",
        "appointment_date": "20/01/2026",
        "original_appointment_date": "18/01/2026",
        "missing_components": [{"name": "Bản vẽ", "reason": "Thiếu chữ ký & dấu"}],
        "fee_amount": "150000",
        "grade": "Rất hài lòng",
        "result_ready_at": "09:00 19/01/2026",
        "returned_at": "10:00 20/01/2026",
        "timeline": [
            {
                "at": "08:00 12/01/2026",
                "action": "Tiếp nhận",
                "status": "Đã tiếp nhận",
                "department": "Một cửa",
                "note": 'Ghi chú "có ngoặc"',
            }
        ],
        "online_files": [
            {
                "id": 7,
                "item": None,
                "kind": "image",
                "state": "Không chấp nhận",
                "refused": True,
                "refusal_reason": "Mờ",
                "sent_at": "08:30 13/01/2026",
            },
            {
                "id": 8,
                "item": "Bản vẽ",
                "kind": "pdf",
                "state": "Đã chấp nhận",
                "refused": False,
                "refusal_reason": "",
                "sent_at": "08:40 13/01/2026",
            },
        ],
    }


class _Tenant:
    name = "Thành phố Đà Nẵng"


class _Request:
    tenant = _Tenant()


def _refuse(message):
    raise AssertionError(f"_ called at render for {message!r}")


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
@pytest.mark.parametrize("token", ["t" * 32, None])
def test_the_status_page_compiled_in_its_language_is_the_page_rendered_with_calls(language, token):
    env = engines["jinja2"].env
    context = {"s": _a_full_status(), "request": _Request(), "LANGUAGE_CODE": language, "token": token}
    with translation.override(language):
        called = env.get_template("lookup/status.html").render({**context, "_": translator(language)})
        # Every word of the page and of the page it extends was translated when it was compiled: a
        # `_` that fails if called renders the same page.
        compiled = env.in_language(language).get_template("lookup/status.html").render({**context, "_": _refuse})
    assert compiled == called
    assert "Bản vẽ" in called and "Trần Thị B" in called and "&lt;nhà ở&gt;" in called
    if language == "en":
        assert "Application code" in compiled or translator("en")("Mã hồ sơ") in compiled
        assert "Mã hồ sơ" not in compiled


def test_each_language_has_its_own_compiled_page():
    env = engines["jinja2"].env
    assert env.in_language("vi") is env.in_language("vi")
    assert env.in_language("vi") is not env.in_language("en")
    assert env.in_language(None) is env
    vi = env.in_language("vi").get_template("lookup/base.html")
    en = env.in_language("en").get_template("lookup/base.html")
    assert vi is not en
    context = {"request": _Request(), "_": _refuse}
    assert "Tra cứu hồ sơ" in vi.render(context) and "Tra cứu hồ sơ" not in en.render(context)
