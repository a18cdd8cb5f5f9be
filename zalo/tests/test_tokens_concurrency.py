"""The OA token under concurrency, as the fault: separate processes read, use and refresh it.

The fake Zalo is made strict here (``old_token_grace=0``: a refresh kills the access token it
replaces at once) and counts, at its door, every API request that carried a token after that token
had been replaced. Readers and refreshers are forked processes with their own database
connections; interleavings are forced with events and by watching, in pg_stat_activity, a process
wait for a lock — never with sleeps. Everything here is committed (other processes must see it)
and removed afterwards; so is the failed-refresh record that must survive its caller's rollback.
"""

import multiprocessing
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from fakezalo import P_TOKEN, FakeZalo
from testing.zalo import APP, OA_ID
from zalo import accounts
from zalo.errors import OAuthRejected, TokenInvalid
from zalo.models import ZaloAccount

FORK = multiprocessing.get_context("fork")
WAIT = 30.0  # seconds before a wait is declared failed (never reached when things work)


@pytest.fixture
def db(django_db_setup):
    """The test database WITHOUT a test transaction: what these tests write is committed, so that the
    other processes see it. Named ``db`` so that pytest-django creates the test database even when
    this module runs alone."""


# --- the strict fake, counting requests made with replaced tokens -------------------------------


class Door:
    """Wraps the fake's token check: which API requests carried a replaced (killed by a refresh) token."""

    def __init__(self, fake: FakeZalo):
        self.fake = fake
        self.replaced_uses: list[str] = []
        self.tokens_seen: list[str] = []

    def __call__(self, req):
        token = req.headers.get("access_token") or ""
        with self.fake._lock:
            record = self.fake._access.get(token)
            self.tokens_seen.append(token)
            if record is None or (record.dies_at is not None and self.fake.now() >= record.dies_at):
                self.replaced_uses.append(f"{req.path} with a replaced token")
        return FakeZalo._auth(self.fake, req)

    def is_replaced(self, token):
        with self.fake._lock:
            record = self.fake._access.get(token)
            return record is not None and record.dies_at is not None and self.fake.now() >= record.dies_at

    def refreshes(self):
        with self.fake._lock:
            return self.fake.request_counts.get(P_TOKEN, 0)


@pytest.fixture
def strict_zalo(db, django_db_blocker, fake_zalo, settings):
    """Đà Nẵng's OA, COMMITTED (other processes see it), with a valid token pair; the fake kills a
    replaced access token at once and counts its uses."""
    from provinces.models import Province

    settings.ZALO_OAUTH_BASE_URL = settings.ZALO_OPENAPI_BASE_URL = settings.ZALO_BUSINESS_BASE_URL = fake_zalo.base_url
    settings.ZALO_HTTP_TIMEOUT = 10.0
    fake = fake_zalo.fake
    fake.reset(tokens=True)
    grace = fake.options.old_token_grace
    fake.options.old_token_grace = 0.0
    door = Door(fake)
    fake._auth = door
    accounts._client.cache_clear()
    with django_db_blocker.unblock():
        danang = Province.objects.get(slug="danang")
        pair = fake.issue_tokens(OA_ID)
        with tenant_context(danang):
            ZaloAccount.objects.all().delete()
            account = ZaloAccount.objects.create(
                **{k: APP[k] for k in ("app_id", "app_secret", "oa_id", "oa_secret_key")},
                access_token=pair["access_token"],
                refresh_token=pair["refresh_token"],
                access_token_expires_at=timezone.now() + timedelta(hours=24),
            )
        connection.set_schema_to_public()
        try:
            yield danang, account, door
        finally:
            del fake._auth
            fake.options.old_token_grace = grace
            with tenant_context(danang):
                ZaloAccount.objects.filter(pk=account.pk).delete()
            connection.set_schema_to_public()
            accounts._client.cache_clear()


# --- processes ----------------------------------------------------------------------------------


class Child:
    """A forked process working in Đà Nẵng's schema on its own database connection."""

    def __init__(self, province, body, *args):
        self.results = FORK.Queue()
        self.pids = FORK.Queue()
        self.done = FORK.Event()
        connections.close_all()  # the child opens its own connection; never share the parent's socket
        accounts._client.cache_clear()
        self.process = FORK.Process(target=self._run, args=(province, body, args), daemon=True)
        self.process.start()
        self._pid = None
        self._result = None

    def _run(self, province, body, args):
        try:
            accounts._client.cache_clear()
            connection.set_tenant(province)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pids.put(cursor.fetchone()[0])
            self.results.put(("ok", body(*args)))
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.results.put(("error", f"{exc.__class__.__name__}: {exc}"))
        finally:
            connections.close_all()
            self.done.set()

    @property
    def backend_pid(self):
        if self._pid is None:
            self._pid = self.pids.get(timeout=WAIT)
        return self._pid

    def result(self):
        if self._result is None:
            self._result = self.results.get(timeout=WAIT)
            self.process.join(timeout=WAIT)
        return self._result

    def value(self):
        status, value = self.result()
        assert status == "ok", value
        return value


def wait_until(predicate, what):
    deadline = time.monotonic() + WAIT
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)
    return value


def waits_on_a_lock(backend_pid):
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [backend_pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def stored_token(province):
    with tenant_context(province):
        token = ZaloAccount.objects.get().access_token
    connection.set_schema_to_public()
    return token


# Bodies run in the children (forked: they see this module's globals).


def list_followers(token):
    accounts.client().list_followers(token)
    return token


def read_and_hold(got, go):
    """A call that read the token, then is slow to reach Zalo (until the test says go)."""

    def fn(token):
        got.put(token)
        assert go.wait(WAIT)
        return list_followers(token)

    return accounts.call_with_token(fn)


def refresh_replacing(token):
    """A process that saw `token` refused: refreshes unless someone already has."""
    return accounts.access_token(stale_token=token)


def refresh_holding_the_answer(token, zalo_answered, go):
    """A refresh that has Zalo's new pair (the old token is dead at Zalo) but has not stored it yet."""
    client = accounts.client()
    original = client.refresh_access_token

    def slow_to_store(*args):
        pair = original(*args)
        zalo_answered.set()
        assert go.wait(WAIT)
        return pair

    client.refresh_access_token = slow_to_store
    return accounts.access_token(stale_token=token)


def call_with_token():
    return accounts.call_with_token(list_followers)


def reader_loop(start, calls):
    start.wait(WAIT)
    return [accounts.call_with_token(list_followers) for _ in range(calls)]


def refresher_loop(start, refreshes):
    start.wait(WAIT)
    done = []
    for _ in range(refreshes):
        done.append(accounts.access_token(stale_token=ZaloAccount.objects.get().access_token))
    return done


# --- 1. readers never use a replaced token --------------------------------------------------------


def test_readers_never_use_a_replaced_token(strict_zalo, django_db_blocker):
    danang, account, door = strict_zalo
    with django_db_blocker.unblock():
        first = stored_token(danang)

        # a) A call read the token and is on its way to Zalo when another process refreshes.
        got, go = FORK.Queue(), FORK.Event()
        reader = Child(danang, read_and_hold, got, go)
        assert got.get(timeout=WAIT) == first
        refresher = Child(danang, refresh_replacing, first)
        wait_until(lambda: refresher.done.is_set() or waits_on_a_lock(refresher.backend_pid), "the refresh")
        go.set()
        reader.result()
        assert door.replaced_uses == []
        assert reader.value() == first  # it reached Zalo before its token was replaced...
        second = refresher.value()
        assert second != first and door.is_replaced(first)  # ...and the refresh did happen, after it

        # b) A refresh has Zalo's new pair (the old token is already dead) but has not stored it yet,
        #    when a call comes for the token: it waits for the refresh and uses the new one.
        answered, go = FORK.Event(), FORK.Event()
        refresher = Child(danang, refresh_holding_the_answer, second, answered, go)
        assert answered.wait(WAIT)
        reader = Child(danang, call_with_token)
        wait_until(lambda: reader.done.is_set() or waits_on_a_lock(reader.backend_pid), "the call")
        go.set()
        reader.result()
        assert door.replaced_uses == []
        third = refresher.value()
        assert third != second and door.is_replaced(second)
        assert reader.value() == third

        # c) Free-running: three readers and two refreshers at once.
        start = FORK.Barrier(5)
        readers = [Child(danang, reader_loop, start, 25) for _ in range(3)]
        refreshers = [Child(danang, refresher_loop, start, 4) for _ in range(2)]
        used = [token for child in readers for token in child.value()]
        refreshed = [token for child in refreshers for token in child.value()]
        assert len(used) == 75 and len(set(refreshed)) >= 4  # the refreshes were interleaved with the calls

    assert door.replaced_uses == []
    assert len(door.tokens_seen) >= 77


# --- 2. −216/−220: re-read the stored token before refreshing -------------------------------------


def session_with_two_calls(first_done, go):
    """A run of calls on one TokenSession (like a broadcast batch), with a pause between two calls."""
    session = accounts.TokenSession()
    tokens = [session.call(list_followers)]
    first_done.set()
    assert go.wait(WAIT)
    tokens.append(session.call(list_followers))
    return tokens


def refused_together(mine, theirs):
    """A call refused with the stored token (killed at Zalo), which waits until the other process was refused too."""
    tokens = []

    def fn(token):
        tokens.append(token)
        try:
            return list_followers(token)
        except TokenInvalid:
            mine.set()
            assert theirs.wait(WAIT)
            raise

    accounts.call_with_token(fn)
    return tokens


def test_minus_216_rereads_before_refreshing(strict_zalo, django_db_blocker):
    danang, account, door = strict_zalo
    fake = door.fake
    with django_db_blocker.unblock():
        first = stored_token(danang)

        # a) A session made a call with the token; another process refreshed; the session's next
        #    call uses the new token (re-read), and nobody refreshes a second time.
        first_done, go = FORK.Event(), FORK.Event()
        session = Child(danang, session_with_two_calls, first_done, go)
        assert first_done.wait(WAIT)
        before = door.refreshes()
        second = Child(danang, refresh_replacing, first).value()
        go.set()
        assert session.value() == [first, second]
        assert door.refreshes() == before + 1
        assert door.replaced_uses == []

        # b) Zalo kills the token; two processes are refused with it at the same time: one refreshes,
        #    the other re-reads the stored token, finds the new one and just retries with it.
        fake.expire_tokens()
        before = door.refreshes()
        one, two = FORK.Event(), FORK.Event()
        p1 = Child(danang, refused_together, one, two)
        p2 = Child(danang, refused_together, two, one)
        tokens1, tokens2 = p1.value(), p2.value()
        third = stored_token(danang)
        assert tokens1 == tokens2 == [second, third] and third != second
        assert door.refreshes() == before + 1  # one refresh: the second process did not refresh again

    assert door.replaced_uses == []


def test_a_failed_refresh_is_recorded_even_when_the_callers_transaction_rolls_back(strict_zalo, django_db_blocker):
    danang, account, door = strict_zalo
    door.fake.expire_tokens(refresh=True)
    with django_db_blocker.unblock():
        with tenant_context(danang):
            with pytest.raises(OAuthRejected):
                with transaction.atomic():  # e.g. a caller that writes its own outcome in one transaction
                    accounts.call_with_token(list_followers)
            account.refresh_from_db()
        connection.set_schema_to_public()
    assert account.refresh_failed_at is not None and account.refresh_error.startswith("-14014: ")
