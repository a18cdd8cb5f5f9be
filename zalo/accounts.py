"""The province's OA access token: one refresh at a time, the new pair stored before it is used.

Zalo's refresh token is single use: two workers refreshing at once would break the chain and a
person would have to re-authorise the OA. So the refresh happens under the ZaloAccount row lock,
the new pair is written in that same transaction, and a caller that saw an invalid token only
refreshes if nobody else has done so since.
"""

import logging
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .client import ZaloClient
from .errors import TokenInvalid
from .models import ZaloAccount

logger = logging.getLogger(__name__)
REFRESH_AHEAD = timedelta(hours=5)  # tokens live ~25 h; refresh from ~20 h on


class NotConfigured(Exception):
    pass


@lru_cache(maxsize=8)
def _client(oauth, openapi, business, timeout):
    return ZaloClient(oauth, openapi, business, timeout=timeout)


def client() -> ZaloClient:
    """The one Zalo client of this process, on the configured base URLs."""
    return _client(
        settings.ZALO_OAUTH_BASE_URL,
        settings.ZALO_OPENAPI_BASE_URL,
        settings.ZALO_BUSINESS_BASE_URL,
        settings.ZALO_HTTP_TIMEOUT,
    )


def current_account() -> ZaloAccount | None:
    return ZaloAccount.objects.filter(is_active=True).order_by("pk").first()


def _needs_refresh(account, now):
    return (
        not account.access_token
        or not account.access_token_expires_at
        or (account.access_token_expires_at - now < REFRESH_AHEAD)
    )


def access_token(*, stale_token: str | None = None) -> str:
    """A valid access token for this province's OA.

    `stale_token`: the token a call was just refused with; refresh unless someone already did.
    """
    account = current_account()
    if account is None:
        raise NotConfigured("no active Zalo account in this province")
    now = timezone.now()
    if stale_token is None and not _needs_refresh(account, now):
        return account.access_token
    with transaction.atomic():
        account = ZaloAccount.objects.select_for_update().get(pk=account.pk)
        if stale_token is not None and account.access_token and account.access_token != stale_token:
            return account.access_token  # another worker refreshed while we waited for the lock
        if stale_token is None and not _needs_refresh(account, timezone.now()):
            return account.access_token
        try:
            pair = client().refresh_access_token(account.app_id, account.app_secret, account.refresh_token)
        except Exception as exc:
            ZaloAccount.objects.filter(pk=account.pk).update(
                refresh_failed_at=timezone.now(), refresh_error=f"{exc.__class__.__name__}: {exc}"[:300]
            )
            logger.error("Zalo token refresh failed for OA %s: %s", account.oa_id, exc.__class__.__name__)
            raise
        account.access_token = pair.access_token
        account.refresh_token = pair.refresh_token
        account.access_token_expires_at = timezone.now() + timedelta(seconds=pair.expires_in or 90000)
        account.refreshed_at = timezone.now()
        account.refresh_error = ""
        account.save()
        logger.info("Zalo token refreshed for OA %s", account.oa_id)
        return account.access_token


class TokenSession:
    """The OA token for a run of calls: read once; on −216/−220 refreshed once and the call retried once."""

    def __init__(self):
        self.value = access_token()

    def call(self, fn):
        try:
            return fn(self.value)
        except TokenInvalid:
            self.value = access_token(stale_token=self.value)
            return fn(self.value)


def call_with_token(fn):
    """fn(access_token) with a fresh session: one refresh and one retry on an invalid token."""
    return TokenSession().call(fn)
