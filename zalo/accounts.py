"""The province's OA access token: never replaced while a call is using it; one refresh at a time.

Zalo's refresh token is single use (two workers refreshing at once would break the chain and a
person would have to re-authorise the OA), and a refresh may kill the access token it replaces at
once. So the token is guarded by a PostgreSQL advisory lock of this province's OA, a readers-writer
lock:

- every API call (:class:`TokenSession`, :func:`call_with_token`) takes the lock SHARED, reads the
  stored token and keeps the lock until Zalo has answered: a refresh cannot replace a token that is
  on the wire, and a caller that comes while a refresh is in progress waits for it and reads the
  new pair (the lock is granted in queue order, so a waiting refresh is not starved by new calls);
- a refresh (:func:`refresh`) takes it EXCLUSIVE and the ZaloAccount row lock, re-reads the row,
  refreshes only if still needed (a caller refused with −216/−220 refreshes only if the stored token
  is the one that was refused; if another process refreshed meanwhile, it just retries with the new
  one), and writes the new pair in that same transaction, before anyone can read it.

A call outside any transaction holds a session-level lock, released when Zalo has answered (or with
the connection); inside a transaction, and for a refresh, the lock is transaction-level (released at
commit or rollback, never leaked): called inside an outer transaction it is held until that ends.

A failed refresh is recorded (time, Zalo's code and message) after its transaction is over, so the
raise does not roll the record back, and it stays on the OA (and on every page of the province's
admin) until a refresh succeeds.
"""

import hashlib
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.utils import timezone

from .client import ZaloClient, oa_follow_url
from .errors import TokenInvalid, ZaloError
from .models import ZaloAccount

logger = logging.getLogger(__name__)
REFRESH_AHEAD = timedelta(hours=5)  # tokens live ~25 h; refresh from ~20 h on
LOCK_NAMESPACE = "zalo-oa-token"


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


def followable_account() -> dict | None:
    """The province's OA for citizens to follow, if it is connected and its connection works; else None."""
    account = current_account()
    if account is None or not account.oa_id or not account.access_token or account.refresh_error:
        return None
    return {"name": account.name or account.oa_id, "url": oa_follow_url(account.oa_id)}


def _current_pk() -> int:
    account = current_account()
    if account is None:
        raise NotConfigured("no active Zalo account in this province")
    return account.pk


def _needs_refresh(account, now):
    return (
        not account.access_token
        or not account.access_token_expires_at
        or (account.access_token_expires_at - now < REFRESH_AHEAD)
    )


# -- the readers-writer lock ---------------------------------------------------------------------


def lock_key(account_pk: int) -> int:
    """The advisory lock of this province's OA token (advisory locks are database-wide: the schema is in it)."""
    name = f"{LOCK_NAMESPACE}:{connection.schema_name}:{account_pk}".encode()
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)


def _lock(account_pk: int, *, exclusive: bool) -> None:
    """Inside a transaction: wait for the OA token lock (released when the transaction ends)."""
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [lock_key(account_pk)])


@contextmanager
def _token_in_use(account_pk: int):
    """The stored token (None if the account is gone or inactive), read once no refresh is in progress;
    none starts until the block ends. Outside a transaction the lock is the session's own, released when
    the block ends (no transaction is kept open while Zalo answers); inside one it is the transaction's.
    One cursor for the lock, the read and the unlock: this runs before every API call."""
    key = lock_key(account_pk)
    session = not connection.in_atomic_block
    lock = "pg_advisory_lock_shared" if session else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {lock}(%s)", [key])
        try:
            # A new statement after the lock: it sees the pair a refresh that held the lock committed.
            cursor.execute(
                f'SELECT access_token, access_token_expires_at FROM "{ZaloAccount._meta.db_table}" '  # noqa: S608 -- table name from the model, values bound as parameters
                "WHERE id = %s AND is_active",
                [account_pk],
            )
            row = cursor.fetchone()
            yield StoredToken(*row) if row else None
        finally:
            if session:
                try:
                    cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [key])
                except DatabaseError as exc:  # the connection is gone, and its locks with it
                    logger.warning("Zalo token lock not released: %s", exc.__class__.__name__)


@dataclass(frozen=True)
class StoredToken:
    access_token: str = field(repr=False)
    access_token_expires_at: datetime | None


_account_pks: dict[str, int] = {}  # schema → its active account's pk (checked at every read)


def _account_pk(*, fresh: bool = False) -> int:
    schema = connection.schema_name
    if fresh or schema not in _account_pks:
        _account_pks[schema] = _current_pk()
    return _account_pks[schema]


# -- refreshing ----------------------------------------------------------------------------------


def refresh(*, stale_token: str | None = None, force: bool = False) -> str:
    """Refresh the OA token if it still needs it; returns the stored access token.

    `stale_token`: the token a call was just refused with (−216/−220): refresh only if it is still
    the stored one (otherwise another process already refreshed). `force`: refresh anyway (admin).
    Without either, refresh only when the token is missing or close to expiry.
    """
    pk = _current_pk()
    try:
        with transaction.atomic():
            _lock(pk, exclusive=True)  # waits until no call is using the current token
            account = ZaloAccount.objects.select_for_update().get(pk=pk)
            if not force and account.access_token:
                if stale_token is not None and account.access_token != stale_token:
                    return account.access_token  # another process refreshed while we waited
                if stale_token is None and not _needs_refresh(account, timezone.now()):
                    return account.access_token
            try:
                pair = client().refresh_access_token(account.app_id, account.app_secret, account.refresh_token)
            except Exception as exc:
                raise _RefreshFailed(exc, account.oa_id, account.refresh_token) from exc  # rolls back, unlocks
            now = timezone.now()
            ZaloAccount.objects.filter(pk=pk).update(
                access_token=pair.access_token,
                refresh_token=pair.refresh_token,
                access_token_expires_at=now + timedelta(seconds=pair.expires_in or 90000),
                refreshed_at=now,
                refresh_failed_at=None,
                refresh_error="",
            )
            logger.info("Zalo token refreshed for OA %s", account.oa_id)
            return pair.access_token
    except _RefreshFailed as failed:
        # Its transaction is over (rolled back, locks released): record the failure where the admins see it.
        logger.error("Zalo token refresh failed for OA %s: %s", failed.oa_id, failed.cause.__class__.__name__)
        record_refresh_failure(pk, failed.tried_refresh_token, failed.cause)
        raise failed.cause from None


def store_new_grant(account_pk: int, obtain_pair) -> None:
    """Store the pair of a new authorisation of the OA (the consent flow, zalo.oauth), under the same
    exclusive lock and row lock as a refresh: `obtain_pair(account)` (the code exchange) runs while no
    call is using the old token, and the new pair is written before anyone can read it. The refresh
    error recorded on the OA is cleared. If `obtain_pair` raises, nothing is written."""
    with transaction.atomic():
        _lock(account_pk, exclusive=True)
        account = ZaloAccount.objects.select_for_update().get(pk=account_pk)
        pair = obtain_pair(account)
        now = timezone.now()
        ZaloAccount.objects.filter(pk=account_pk).update(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            access_token_expires_at=now + timedelta(seconds=pair.expires_in or 90000),
            refreshed_at=now,
            refresh_failed_at=None,
            refresh_error="",
        )
    _account_pks.pop(connection.schema_name, None)  # re-read which account is active at the next call
    logger.info("Zalo OA %s authorised again through the consent flow", account.oa_id)


class _RefreshFailed(Exception):
    def __init__(self, cause, oa_id, tried_refresh_token):
        super().__init__(cause)
        self.cause, self.oa_id, self.tried_refresh_token = cause, oa_id, tried_refresh_token


def describe_failure(exc: Exception) -> str:
    """What the admins read: Zalo's error code and message, or the kind of local failure."""
    if isinstance(exc, ZaloError):
        code = f"{exc.code}: " if exc.code is not None else ""
        return f"{code}{exc.message or exc.__class__.__name__}"[:300]
    return f"{exc.__class__.__name__}: {exc}"[:300]


def record_refresh_failure(account_pk: int, tried_refresh_token: str, exc: Exception) -> None:
    """Store when and why the refresh failed, unless the chain moved on meanwhile (a later refresh won).

    Outside any transaction this is its own autocommitted write. Inside an outer transaction (which
    the raise may well roll back) it is written on a separate connection first.
    """
    when, text = timezone.now(), describe_failure(exc)
    if connection.in_atomic_block and _record_on_own_connection(account_pk, tried_refresh_token, when, text):
        return
    ZaloAccount.objects.filter(pk=account_pk, refresh_token=tried_refresh_token).update(
        refresh_failed_at=when, refresh_error=text
    )


def _record_on_own_connection(account_pk, tried_refresh_token, when, text) -> bool:
    own = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        own.set_schema(connection.schema_name)
        with own.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # never wait on a row lock our own transaction holds
            cursor.execute(
                f'UPDATE "{ZaloAccount._meta.db_table}" SET refresh_failed_at = %s, refresh_error = %s '  # noqa: S608 -- table name from the model, values bound as parameters
                "WHERE id = %s AND refresh_token = %s",
                [when, text, account_pk, tried_refresh_token],
            )
            return cursor.rowcount > 0
    except DatabaseError as exc:
        logger.warning("could not record the Zalo refresh failure on its own connection: %s", exc.__class__.__name__)
        return False
    finally:
        own.close()


# -- using the token -----------------------------------------------------------------------------


def access_token(*, stale_token: str | None = None) -> str:
    """The stored access token, refreshed first if it is missing or close to expiry (waits for a refresh
    in progress). `stale_token`: the token a call was just refused with, see :func:`refresh`.

    The value may be replaced as soon as this returns: make API calls with :func:`call_with_token`.
    """
    if stale_token is not None:
        return refresh(stale_token=stale_token)
    with _token_in_use(_account_pk(fresh=True)) as account:
        if account is not None and not _needs_refresh(account, timezone.now()):
            return account.access_token
    return refresh()


class TokenSession:
    """The OA token for a run of calls. Each call holds the token lock shared while Zalo answers; on
    −216/−220 the stored token is re-read (refreshed once if it is still the refused one) and the call
    retried once."""

    def __init__(self):
        self.account_pk = _account_pk()

    def call(self, fn):
        refused, refreshed = None, False
        for _ in range(4):
            with _token_in_use(self.account_pk) as account:
                if account is None:  # deactivated or replaced since this process last looked
                    self.account_pk = _account_pk(fresh=True)
                    continue
                token = account.access_token
                if token and token != refused and (refreshed or not _needs_refresh(account, timezone.now())):
                    try:
                        return fn(token)
                    except TokenInvalid:
                        if refused is not None:
                            raise
                        refused = token
            # Not holding the lock here: a refresh needs it.
            refresh(stale_token=refused)
            refreshed = True
        raise TokenInvalid(None, "no usable access token after a refresh")


def call_with_token(fn):
    """fn(access_token) with the token lock held; one refresh and one retry on an invalid token."""
    return TokenSession().call(fn)
