"""API conventions: errors are JSON with a stable code and a Vietnamese message, never a bare 500.

Bounds on what one request may ask for: a page holds at most ``MAX_PAGE_SIZE`` dossiers (a larger
``limit`` is refused with a 400, not silently clamped, so a script learns it must page), query
strings and search terms have a length limit, and JSON bodies a size and nesting limit. Under
``/api/`` every error (unknown paths, wrong methods, failures outside DRF) answers in the same
JSON shape: ``{"error": {"code": ..., "message": ...}}``.
"""

import codecs
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils import json

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
MAX_PAGE_SIZE = 100
MAX_OFFSET = 1_000_000
MAX_QUERY_STRING = 1000  # characters of the raw query string
MAX_QUERY_VALUE = 100  # characters of any one query parameter (the search term ``q`` included)
MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 16

CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.ParseError: "malformed_request",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid_input",
}

MESSAGES = {
    "not_authenticated": _("Cần đăng nhập (phiên đăng nhập hoặc token của cán bộ)."),
    "authentication_failed": _("Thông tin đăng nhập không đúng."),
    "permission_denied": _("Bạn không có quyền thực hiện thao tác này."),
    "not_found": _("Không tìm thấy."),
    "method_not_allowed": _("Phương thức không được hỗ trợ."),
    "malformed_request": _("Dữ liệu gửi lên không đúng định dạng JSON."),
    "unsupported_media_type": _("Kiểu dữ liệu gửi lên không được hỗ trợ."),
    "throttled": _("Quá nhiều yêu cầu; vui lòng thử lại sau."),
    "invalid_input": _("Dữ liệu không hợp lệ."),
    "server_error": _("Lỗi hệ thống; vui lòng thử lại sau."),
    "request_too_large": _("Dữ liệu gửi lên quá lớn."),
    "bad_request": _("Yêu cầu không hợp lệ."),
    "error": _("Yêu cầu không thực hiện được."),
}
# Errors that reach the JSON middleware as a plain Django page, by HTTP status.
STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
}
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def error_response(code, message, http_status, fields=None, headers=None):
    body = {"error": {"code": code, "message": str(message)}}
    if fields:
        body["error"]["fields"] = fields
    return Response(body, status=http_status, headers=headers)


def exception_handler(exc, context):
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES, which names this module's parser.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(exc.messages)
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled API error", exc_info=exc)
        return error_response("server_error", MESSAGES["server_error"], 500)
    code = next((c for cls, c in CODES.items() if isinstance(exc, cls)), "error")
    fields = response.data if isinstance(exc, exceptions.ValidationError) else None
    if isinstance(fields, list):
        fields = {"non_field_errors": fields}
    message = MESSAGES.get(code, str(getattr(exc, "detail", "")))
    return error_response(code, message, response.status_code, fields, headers=dict(response.headers))


class ApiError(exceptions.APIException):
    """An error with our own code and message (e.g. a workflow refusal)."""

    def __init__(self, code, message, http_status=status.HTTP_400_BAD_REQUEST):
        super().__init__(detail=message, code=code)
        self.status_code = http_status
        self.error_code = code


def api_error_handler(exc, context):
    if isinstance(exc, ApiError):
        headers = {"Retry-After": str(exc.retry_after)} if getattr(exc, "retry_after", None) else None
        return error_response(exc.error_code, exc.detail, exc.status_code, headers=headers)
    return exception_handler(exc, context)


# --- bounds -------------------------------------------------------------------------------------


def _bounded_int(raw, name, low, high):
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ApiError(
            "invalid_page",
            _("Tham số “%(name)s” phải là số nguyên từ %(low)d đến %(high)d.")
            % {"name": name, "low": low, "high": high},
        )
    return int(raw)


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """limit/offset paging with ``limit`` ≤ MAX_PAGE_SIZE; an out-of-range value is a 400, never a dump."""

    max_limit = MAX_PAGE_SIZE

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        return _bounded_int(raw, self.limit_query_param, 1, self.max_limit)

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw is None:
            return 0
        return _bounded_int(raw, self.offset_query_param, 0, MAX_OFFSET)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: (1, self.max_limit), self.offset_query_param: (0, MAX_OFFSET)}
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"] = {**parameter["schema"], "minimum": low, "maximum": high}
            parameter["description"] = f"{parameter['description']} {low}–{high}; outside it: 400 (invalid_page)."
        return parameters


def _nesting_depth(text):
    """How deep arrays/objects nest in a JSON text, found without parsing (and without recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _has_nul(value):
    """Whether a parsed JSON value holds a NUL character anywhere (PostgreSQL text cannot store one)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a size limit (413) and a nesting limit (400) checked before parsing."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding") or "utf-8"
        raw = stream.read(MAX_JSON_BYTES + 1)
        if len(raw) > MAX_JSON_BYTES:
            raise ApiError(
                "request_too_large",
                _("Dữ liệu gửi lên quá lớn (tối đa %d KB).") % (MAX_JSON_BYTES // 1024),
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError):
            raise exceptions.ParseError() from None
        if _nesting_depth(text) > MAX_JSON_DEPTH:
            raise ApiError(
                "too_deeply_nested",
                _("Dữ liệu JSON lồng quá %d tầng.") % MAX_JSON_DEPTH,
            )
        try:
            parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
            data = json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError):
            raise exceptions.ParseError() from None
        if _has_nul(data):
            raise ApiError("invalid_input", _("Dữ liệu gửi lên chứa ký tự không hợp lệ."))
        return data


# --- JSON errors for everything under /api/ -------------------------------------------------------


def json_error(code, message, http_status, headers=None):
    response = JsonResponse(
        {"error": {"code": code, "message": str(message)}},
        status=http_status,
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _is_json(response):
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


class ApiErrorsMiddleware:
    """Under ``/api/``: refuse oversized or malformed query strings, and answer every error in JSON.

    Django's own error pages (an unknown path's 404, a CSRF 403, a DisallowedHost 400, a 500 raised
    outside DRF's views) are replaced by the JSON error shape with the same status; the response of a
    DRF view is JSON already and goes through untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        refused = self.refuse(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response):
            code = STATUS_CODES.get(response.status_code, "server_error" if response.status_code >= 500 else "error")
            headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
            return json_error(code, MESSAGES.get(code, MESSAGES["error"]), response.status_code, headers)
        return response

    def refuse(self, request):
        query = request.META.get("QUERY_STRING", "")
        too_long = len(query) > MAX_QUERY_STRING or any(
            len(value) > MAX_QUERY_VALUE for values in request.GET.lists() for value in values[1]
        )
        if too_long:
            return json_error(
                "query_too_long",
                _("Chuỗi truy vấn quá dài (mỗi tham số tối đa %d ký tự).") % MAX_QUERY_VALUE,
                status.HTTP_400_BAD_REQUEST,
            )
        if "\x00" in request.path_info or any("\x00" in key + "".join(v) for key, v in request.GET.lists()):
            return json_error("bad_request", MESSAGES["bad_request"], status.HTTP_400_BAD_REQUEST)
        return None
