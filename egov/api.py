"""API conventions: errors are JSON with a stable code and a Vietnamese message, never a bare 500."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

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
}


def error_response(code, message, http_status, fields=None, headers=None):
    body = {"error": {"code": code, "message": str(message)}}
    if fields:
        body["error"]["fields"] = fields
    return Response(body, status=http_status, headers=headers)


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(exc.messages)
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled API error", exc_info=exc)
        return error_response("server_error", _("Lỗi hệ thống; vui lòng thử lại sau."), 500)
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
