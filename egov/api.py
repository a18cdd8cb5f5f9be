"""API conventions: errors are JSON with a stable code and a Vietnamese message, never a bare 500.

Bounds on what one request may ask for: a page holds at most ``MAX_PAGE_SIZE`` dossiers (a larger
``limit`` is refused with a 400, not silently clamped, so a script learns it must page), query
strings and search terms have a length limit, and JSON bodies a size and nesting limit. Under
``/api/`` every error (unknown paths, wrong methods, failures outside DRF) answers in the same
JSON shape: ``{"error": {"code": ..., "message": ...}}``.
"""

import codecs
import datetime
import logging

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import DateTimeField, F
from django.db.models.fields.tuple_lookups import TupleGreaterThan, TupleLessThan
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, parsers, status
from rest_framework.pagination import BasePagination, LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils import json
from rest_framework.utils.urls import remove_query_param, replace_query_param

from egov.auth_backends import PERMISSION_NAMES, keep_permission_names, with_permission_names
from egov.compiled import CompiledSelect

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
MAX_PAGE_SIZE = 100
MAX_OFFSET = 1_000_000
MAX_KEYSET_OFFSET = 1000  # keyset lists: beyond this, follow the "next" links (cursors)
COUNT_LIMIT = 1000  # keyset lists count matching rows exactly up to this, then say "more" (cost ∝ it)
MAX_QUERY_STRING = 1000  # characters of the raw query string
MAX_QUERY_VALUE = 100  # characters of any one query parameter (the search term ``q`` included)
MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 16


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, with the user's officer profile, department and permissions in the
    same query: every officer endpoint asks for them (permission check, places in the workflow, the
    intake)."""

    def authenticate_credentials(self, key):
        token = _TOKEN_WITH_USER.first(str(key))
        if token is None or not token.user.is_active:
            return super().authenticate_credentials(key)  # DRF's own refusal, message and all
        return (keep_permission_names(token.user, getattr(token, PERMISSION_NAMES)), token)


def _token_with_user(key):
    from rest_framework.authtoken.models import Token  # not at import: DRF's settings name this module

    tokens = Token.objects.select_related("user__officer__department")
    return with_permission_names(tokens).filter(key=key)  # the user table joined under its name


# Compiled by the ORM once per thread (egov/compiled.py); a key is 40 characters, the placeholder 41.
_TOKEN_WITH_USER = CompiledSelect(_token_with_user, placeholder="compiled-token-placeholder-" + "0" * 14)


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


class BoundedLimit:
    """``limit`` from 1 to ``max_limit`` (MAX_PAGE_SIZE); outside it a 400, never a dump."""

    max_limit = MAX_PAGE_SIZE

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        return _bounded_int(raw, self.limit_query_param, 1, self.max_limit)


class BoundedLimitOffsetPagination(BoundedLimit, LimitOffsetPagination):
    """limit/offset paging with ``limit`` ≤ MAX_PAGE_SIZE; an out-of-range value is a 400, never a dump."""

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


class KeysetPagination(BoundedLimit, BasePagination):
    """Cursor (keyset) paging on a unique order, newest first: page n costs what page 1 costs.

    The view names its order in ``keyset_fields`` (e.g. ``("registered_at", "id")``: both descending,
    never null, the last one unique, an index on them). A page is ``WHERE (a, b) < (last row's a, b) ORDER BY a
    DESC, b DESC LIMIT n``, a range scan of that index however deep the page; DRF's CursorPagination
    instead positions on the first field plus an offset through its ties, which a day of dossiers
    registered in the same second (a bulk import) turns back into an offset scan.

    The ``cursor`` of the ``next``/``previous`` links is the row's position signed for this province
    and list: an edited or forged cursor, or one from another province, is a 400 (``invalid_page``),
    never a 500 nor a page of someone else's rows. ``limit`` is 1–MAX_PAGE_SIZE as everywhere;
    ``offset`` (without ``cursor``) still works up to MAX_KEYSET_OFFSET for old scripts. ``count`` is
    exact up to COUNT_LIMIT; above, it is COUNT_LIMIT and ``count_exact`` is false.
    """

    limit_query_param = "limit"
    offset_query_param = "offset"
    cursor_query_param = "cursor"
    default_limit = api_settings.PAGE_SIZE
    max_offset = MAX_KEYSET_OFFSET
    count_limit = COUNT_LIMIT

    # --- cursors ---------------------------------------------------------------------------------

    def _signer(self, view):
        return signing.Signer(salt=f"egov.api.cursor:{connection.schema_name}:{type(view).__name__}")

    def _encode(self, direction, row):
        parts = [direction]
        for name in self.fields:
            value = getattr(row, name)
            if isinstance(value, datetime.datetime):
                value = (value - EPOCH) // datetime.timedelta(microseconds=1)
            parts.append(str(value))
        return self._signer(self.view).sign(".".join(parts))

    def _decode(self, raw):
        try:
            direction, *values = self._signer(self.view).unsign(raw).split(".")
            if direction not in ("n", "p") or len(values) != len(self.fields):
                raise ValueError(raw)
            return direction, [self._value(name, text) for name, text in zip(self.fields, values, strict=True)]
        except (signing.BadSignature, ValueError, OverflowError):
            raise ApiError(
                "invalid_page",
                _("Tham số “cursor” không hợp lệ; hãy dùng đúng liên kết “next” hoặc “previous” mà API trả về."),
            ) from None

    def _value(self, name, text):
        if not (text.isascii() and text.lstrip("-").isdigit()):
            raise ValueError(text)
        number = int(text)
        if isinstance(self.model._meta.get_field(name), DateTimeField):
            return EPOCH + datetime.timedelta(microseconds=number)
        return number

    # --- paging ----------------------------------------------------------------------------------

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw is None:
            return 0
        if not (raw.isascii() and raw.isdigit()) or int(raw) > self.max_offset:
            raise ApiError(
                "invalid_page",
                _(
                    "Tham số “offset” chỉ nhận từ 0 đến %(high)d; để đi tiếp, hãy theo liên kết “next” "
                    "(tham số “cursor”)."
                )
                % {"high": self.max_offset},
            )
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        self.request, self.view, self.model = request, view, queryset.model
        self.fields = tuple(view.keyset_fields)
        self.limit = self.get_limit(request)
        raw_cursor = request.query_params.get(self.cursor_query_param)
        offset = self.get_offset(request)
        if raw_cursor is not None and request.query_params.get(self.offset_query_param) is not None:
            raise ApiError("invalid_page", _("Không dùng “cursor” cùng với “offset”."))
        newest_first = queryset.order_by(*(f"-{name}" for name in self.fields))
        keys = [F(name) for name in self.fields]
        if raw_cursor is None:
            rows = list(newest_first[offset : offset + self.limit + 1])
            has_more, self.has_before = len(rows) > self.limit, offset > 0
            rows = rows[: self.limit]
        else:
            direction, values = self._decode(raw_cursor)
            if direction == "n":
                rows = list(newest_first.filter(TupleLessThan(keys, values))[: self.limit + 1])
                has_more, self.has_before = len(rows) > self.limit, True
                rows = rows[: self.limit]
            else:  # "p": the rows just above the position, read upwards, then put back in order
                oldest_first = queryset.order_by(*self.fields).filter(TupleGreaterThan(keys, values))
                rows = list(oldest_first[: self.limit + 1])
                self.has_before, has_more = len(rows) > self.limit, True
                rows = rows[: self.limit][::-1]
        if raw_cursor is None and offset == 0 and not has_more:
            counted = len(rows)  # the whole list is on this page (a search for one code): no count query
        else:
            counted = queryset.order_by()[: self.count_limit + 1].count()
        self.count, self.count_exact = min(counted, self.count_limit), counted <= self.count_limit
        self.next_cursor = self._encode("n", rows[-1]) if rows and has_more else None
        self.previous_cursor = self._encode("p", rows[0]) if rows and self.has_before else None
        return rows

    def _link(self, cursor):
        if cursor is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.offset_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "count_exact": self.count_exact,
                "next": self._link(self.next_cursor),
                "previous": self._link(self.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "count_exact", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "example": 123,
                    "description": f"Matching rows, exact up to {self.count_limit}; above, {self.count_limit}.",
                },
                "count_exact": {"type": "boolean", "description": f"False when more than {self.count_limit} match."},
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page (a cursor link); null on the last page.",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The previous page (a cursor link); null on the first page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1–{self.max_limit} (default {self.default_limit}); "
                "outside it: 400 (invalid_page).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
            },
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position taken from a `next` or `previous` link; an edited cursor "
                "or one from another province: 400 (invalid_page).",
                "schema": {"type": "string"},
            },
            {
                "name": self.offset_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows to skip, 0–{self.max_offset}, only without `cursor` (deeper pages: "
                "follow `next`); outside it: 400 (invalid_page).",
                "schema": {"type": "integer", "minimum": 0, "maximum": self.max_offset},
            },
        ]


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


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
        params = list(request.GET.lists()) if query else []  # most calls (a citizen's lookup) have none
        too_long = len(query) > MAX_QUERY_STRING or any(
            len(value) > MAX_QUERY_VALUE for _name, values in params for value in values
        )
        if too_long:
            return json_error(
                "query_too_long",
                _("Chuỗi truy vấn quá dài (mỗi tham số tối đa %d ký tự).") % MAX_QUERY_VALUE,
                status.HTTP_400_BAD_REQUEST,
            )
        if "\x00" in request.path_info or any("\x00" in key + "".join(v) for key, v in params):
            return json_error("bad_request", MESSAGES["bad_request"], status.HTTP_400_BAD_REQUEST)
        return None
