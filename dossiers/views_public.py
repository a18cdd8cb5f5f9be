"""Citizen pages: the QR status page and the code + verifier lookup. Thin: parse, call lookup, render."""

from functools import partial

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.template import engines
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from egov.jinja import translator
from egov.ratelimit import client_address

from . import lookup

NOT_FOUND = _(
    "Không tìm thấy hồ sơ khớp với mã hồ sơ và thông tin xác minh. Vui lòng kiểm tra lại mã trên giấy tiếp nhận."
)
STATUS_TEMPLATE = "lookup/status.html"
BAD_LINK = _("Đường dẫn tra cứu không đúng hoặc đã được thay bằng giấy tiếp nhận mới.")


class LookupForm(forms.Form):
    code = forms.CharField(
        label=_("Mã hồ sơ"),
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": "000.00.14.H20-200703-0002", "autocomplete": "off"}),
    )
    verifier = forms.CharField(
        label=_("Số điện thoại hoặc số giấy tờ tùy thân của người nộp"),
        help_text=_(
            "Nhập đầy đủ số điện thoại (ví dụ 0905 123 456) hoặc số CCCD 12 số / CMND 9 số đã khai khi nộp hồ sơ."
        ),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )


def private_response(response):
    # The page is for one citizen: no shared caches, and the token never leaks through Referer.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def status_html(request, status, token=None) -> bytes:
    """The status page (lookup/status.html) as bytes, rendered with what it shows and nothing else: the
    status, the province (through `request`), the language, and on the QR page its token (links to the
    files the citizen sent online; the code + verifier page has none).

    A Jinja2 template (egov/jinja.py), rendered without `render()`'s context processors and CSRF
    values, which a citizen's page does not use; compiled for the page's language (its literal
    `_("…")` translated once), with `_` bound to that language. The tests compare it byte for byte
    with `render()`'s page.
    """
    language = translation.get_language()
    context = {"s": status, "request": request, "LANGUAGE_CODE": language, "token": token, "_": translator(language)}
    return engines["jinja2"].env.in_language(language).get_template(STATUS_TEMPLATE).render(context).encode()


def _throttled(request, exc, template, context):
    response = render(request, template, {**context, "error": exc.message}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return private_response(response)


@csrf_exempt  # no session or cookie is involved; the form only reads
@never_cache
@require_http_methods(["GET", "POST"])
def lookup_form(request):
    form = LookupForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST":
        if not form.is_valid():
            return private_response(render(request, "lookup/form.html", context, status=400))
        try:
            status = lookup.status_by_code(
                form.cleaned_data["code"], form.cleaned_data["verifier"], client_address(request)
            )
        except lookup.Throttled as exc:  # a locked code: the same page whether it exists or not, no input echoed
            return _throttled(request, exc, "lookup/form.html", {"form": LookupForm()})
        if status is None:
            # The same answer for an unknown code and a wrong verifier: nothing of the input is echoed.
            return private_response(
                render(request, "lookup/form.html", {"form": LookupForm(), "error": NOT_FOUND}, status=404)
            )
        return private_response(HttpResponse(status_html(request, status), content_type="text/html; charset=utf-8"))
    return private_response(render(request, "lookup/form.html", context))


@require_http_methods(["GET", "HEAD"])
def status_page(request, token):
    """The page behind the receipt's QR code. A rush of scans is served from the cached page; on results
    day (every scan a different dossier) each page is one database statement (`lookup.serve`)."""

    try:
        # In the request's language (the page, and its cached copy, are kept per language).
        content = lookup.serve(token, "html", client_address(request), partial(status_html, request, token=token))
    except lookup.Throttled as exc:
        return _throttled(request, exc, "lookup/form.html", {"form": LookupForm()})
    if content is None:
        return private_response(
            render(request, "lookup/form.html", {"form": LookupForm(), "error": BAD_LINK}, status=404)
        )
    return private_response(HttpResponse(content, content_type="text/html; charset=utf-8"))
