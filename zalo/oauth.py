"""Connecting the province's OA from its admin: Zalo's OAuth v4 consent flow with PKCE (docs/zalo-api.md).

1. A province admin (verified second factor, permission ``zalo.change_zaloaccount``) presses
   "Kết nối Zalo OA": :func:`begin` makes a PKCE verifier (kept server-side, in the admin's session)
   and a random ``state``, and sends the browser to Zalo's permission page with the challenge and the
   callback on the province's own domain.
2. Zalo redirects the browser back with ``code``, ``oa_id`` and ``state`` (or an ``error``).
   :func:`take_pending` accepts the state only from the session that started the flow, once, within
   :data:`STATE_LIFETIME`, compared in constant time.
3. :func:`connect` exchanges the code (with the verifier) and stores the pair through
   :func:`zalo.accounts.store_new_grant` (exclusive token lock, row lock; clears a recorded refresh
   error). Any refusal raises :class:`ConnectRefused` with a Vietnamese message; nothing is stored.

The same flow re-authorises an OA whose refresh chain broke.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext as _

from . import accounts
from .errors import ZaloError
from .signature import code_challenge, make_code_verifier

SESSION_KEY = "zalo_oauth_pending"
STATE_LIFETIME = 600  # seconds between pressing the button and Zalo's redirect back


class ConnectRefused(Exception):
    """The flow stops here; `message` is what the admin reads on the OA's page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Pending:
    account_pk: int
    verifier: str = field(repr=False)


def callback_url(request) -> str:
    """The redirect URI registered in the Zalo app: the callback on this province's own domain."""
    return request.build_absolute_uri(reverse("admin:zalo_zaloaccount_connect_callback"))


def begin(request, account) -> str:
    """Remember a new flow in this session (replacing any earlier one) and return Zalo's permission URL."""
    verifier = make_code_verifier()
    state = secrets.token_urlsafe(32)
    request.session[SESSION_KEY] = {
        "state": state,
        "verifier": verifier,
        "account": account.pk,
        "user": request.user.pk,
        "started": time.time(),
    }
    return accounts.client().authorization_url(account.app_id, callback_url(request), code_challenge(verifier), state)


def take_pending(request, state: str) -> Pending:
    """The flow this session started, if `state` is its state: used up by this call (single use).

    A wrong state leaves the session's flow in place (a forged link cannot cancel it); a matching one
    removes it, whatever happens next.
    """
    pending = request.session.get(SESSION_KEY)
    if not isinstance(pending, dict) or not pending.get("state"):
        raise ConnectRefused(
            _(
                "Không kết nối: phiên đăng nhập này không có yêu cầu kết nối Zalo OA nào đang chờ "
                "(yêu cầu đã được dùng, hoặc bắt đầu từ một phiên khác). Hãy bấm “Kết nối Zalo OA” lại."
            )
        )
    if not state or not hmac.compare_digest(state.encode(), str(pending["state"]).encode()):
        raise ConnectRefused(
            _(
                "Không kết nối: mã state Zalo gửi về không khớp với yêu cầu của phiên này. "
                "Hãy bấm “Kết nối Zalo OA” lại."
            )
        )
    del request.session[SESSION_KEY]
    if pending.get("user") != request.user.pk:
        raise ConnectRefused(_("Không kết nối: yêu cầu kết nối được bắt đầu bởi một tài khoản khác."))
    started = pending.get("started")
    if not isinstance(started, (int, float)) or not 0 <= time.time() - started <= STATE_LIFETIME:
        raise ConnectRefused(
            _("Không kết nối: yêu cầu kết nối đã quá %(minutes)d phút. Hãy bấm “Kết nối Zalo OA” lại.")
            % {"minutes": STATE_LIFETIME // 60}
        )
    return Pending(int(pending["account"]), str(pending["verifier"]))


def connect(pending: Pending, *, code: str, oa_id: str, error: str = "", error_description: str = "") -> None:
    """Exchange Zalo's code for the OA's token pair and store it; ConnectRefused (nothing stored) otherwise."""
    if error:
        raise ConnectRefused(
            _("Không kết nối: Zalo báo lỗi “%(error)s” (người quản trị OA đã từ chối cấp quyền hoặc yêu cầu sai).")
            % {"error": (error_description or error)[:200]}
        )
    if not code:
        raise ConnectRefused(_("Không kết nối: Zalo không gửi về mã cấp quyền."))

    def exchange(account):
        if oa_id != account.oa_id:
            raise ConnectRefused(
                _("Không kết nối: quyền được cấp cho OA %(given)s, không phải OA %(ours)s của tỉnh.")
                % {"given": oa_id[:64] or "—", "ours": account.oa_id}
            )
        try:
            return accounts.client().exchange_code(account.app_id, account.app_secret, code, pending.verifier)
        except ZaloError as exc:
            raise ConnectRefused(
                _("Không kết nối: Zalo không chấp nhận mã cấp quyền (%(error)s).")
                % {"error": accounts.describe_failure(exc)}
            ) from None

    accounts.store_new_grant(pending.account_pk, exchange)
