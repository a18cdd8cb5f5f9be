"""The province data every intake reads, kept in the web process's tenant cache (egov/middleware.py):
its working-day calendar and its primary domain (the receipt's link). Attacked here: a change is used
by the very next intake (in the writing transaction, and in every process after the commit), a
rolled-back change is never kept, a value read before an eviction arrived is not stored after it, one
province never gets another's, and one calendar shared by a process's threads fills its years once."""

import threading
import time
from contextlib import contextmanager
from datetime import date, datetime
from urllib.parse import urlsplit

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from dossiers import deadlines
from dossiers.calendars import CALENDAR_PREFIX, current_calendar
from dossiers.links import lookup_url
from dossiers.models import WorkingDayOverride
from dossiers.services import backdated
from dossiers.tests.factories import ProcedureFactory, receive
from egov.middleware import PRIMARY_DOMAIN_PREFIX, CachedTenantMiddleware, cached, tenant_cache
from notifications.models import Notification
from provinces.models import Domain

pytestmark = pytest.mark.django_db

MONDAY_MORNING = datetime(2026, 12, 7, 9, 0, tzinfo=deadlines.VN_TZ)  # no holiday that week
WEDNESDAY = date(2026, 12, 9)


def listening_tenant_cache(settings):
    """The tenant cache on and listening (nothing is kept before its eviction channel is subscribed);
    a fixture's body (shared with test_intake_procedure_cache.py)."""
    settings.TENANT_CACHE_SECONDS = 300
    CachedTenantMiddleware.clear()
    cache = tenant_cache()
    cache.get("warm-up")
    assert cache._subscribed.wait(10)
    yield cache
    CachedTenantMiddleware.clear()


@pytest.fixture(autouse=True)
def warm(settings):
    yield from listening_tenant_cache(settings)


@contextmanager
def committed():
    """As if the block's transaction committed here: its on-commit callbacks run and leave the queue
    (the test's own transaction is rolled back at the end, so nothing really commits)."""
    start = len(connection.run_on_commit)
    yield
    callbacks = connection.run_on_commit[start:]
    del connection.run_on_commit[start:]
    for _sids, callback, _robust in callbacks:
        callback()


def own_eviction_heard(cache, since):
    """Wait until this process's listener has handled the eviction announced since `since` (the
    generation before the write: +1 for the eviction here, +1 for its own message back), so that no
    eviction arriving later can hide a value kept when it should not have been."""
    deadline = time.monotonic() + 10
    while cache.generation < since + 2:
        assert time.monotonic() < deadline, "the eviction never came back on the channel"
        time.sleep(0.005)


def host(url):
    return urlsplit(url).hostname


def test_a_day_off_added_is_used_by_the_next_intake_here_and_after_the_commit(reception, warm):
    procedure = ProcedureFactory(processing_days=3)
    with backdated(MONDAY_MORNING):
        first = receive(reception, procedure)
    assert first.appointment_date == date(2026, 12, 10)
    assert warm.get(CALENDAR_PREFIX + "danang") is not None  # the intake's calendar is kept

    with committed():
        since = warm.generation
        WorkingDayOverride.objects.create(date=WEDNESDAY, is_working_day=False, reason="Nghỉ bù")
        own_eviction_heard(warm, since)
        with backdated(MONDAY_MORNING):
            inside = receive(reception, procedure)  # the writing transaction reads its own row
        assert inside.appointment_date == date(2026, 12, 11)
        assert warm.get(CALENDAR_PREFIX + "danang") is None  # not kept before the commit
    with backdated(MONDAY_MORNING):
        after = receive(reception, procedure)
    assert after.appointment_date == date(2026, 12, 11)
    assert WEDNESDAY in warm.get(CALENDAR_PREFIX + "danang").days_off

    with committed():
        WorkingDayOverride.objects.filter(date=WEDNESDAY).delete()  # deleting is a change too
    with backdated(MONDAY_MORNING):
        assert receive(reception, procedure).appointment_date == date(2026, 12, 10)


def test_a_rolled_back_change_is_never_kept(in_danang, warm):
    assert current_calendar().is_working_day(WEDNESDAY)
    with pytest.raises(RuntimeError), transaction.atomic():
        since = warm.generation
        WorkingDayOverride.objects.create(date=WEDNESDAY, is_working_day=False, reason="Nghỉ bão")
        own_eviction_heard(warm, since)
        assert not current_calendar().is_working_day(WEDNESDAY)  # its own transaction sees it...
        raise RuntimeError
    assert current_calendar().is_working_day(WEDNESDAY)  # ...nobody else, before or after the rollback
    assert warm.get(CALENDAR_PREFIX + "danang").is_working_day(WEDNESDAY)


def test_a_value_read_before_an_eviction_arrived_is_not_stored(in_danang, warm):
    key = CALENDAR_PREFIX + "danang"

    def read_while_it_changes():
        warm.evict_local([key])  # the eviction message arrives while the old rows are being read
        return "old"

    assert cached(key, read_while_it_changes) == "old"
    assert warm.get(key) is None
    assert cached(key, lambda: "new") == "new"
    assert warm.get(key) == "new"


def test_one_province_never_gets_anothers_calendar_or_link(reception, camau, warm):
    with committed():
        WorkingDayOverride.objects.create(date=WEDNESDAY, is_working_day=False, reason="Nghỉ riêng Đà Nẵng")
    dossier = receive(reception)
    assert not current_calendar().is_working_day(WEDNESDAY)
    assert host(lookup_url(dossier)) == "danang.localhost"
    with tenant_context(camau):
        assert current_calendar().is_working_day(WEDNESDAY)
        assert host(lookup_url(dossier)) == "camau.localhost"
        assert warm.get(CALENDAR_PREFIX + "camau") is not warm.get(CALENDAR_PREFIX + "danang")
    assert not current_calendar().is_working_day(WEDNESDAY)
    assert host(lookup_url(dossier)) == "danang.localhost"


def test_a_new_primary_domain_is_in_the_next_receipt_here_and_after_the_commit(reception, danang, warm):
    first = receive(reception)
    assert host(lookup_url(first)) == "danang.localhost"
    assert warm.get(PRIMARY_DOMAIN_PREFIX + "danang") == "danang.localhost"

    old = Domain.objects.get(domain="danang.localhost")
    with committed():
        # Primary now; django-tenants demotes the old one with an UPDATE (no signal of its own).
        since = warm.generation
        Domain.objects.create(domain="motcua.danang.gov.vn", tenant=danang, is_primary=True)
        own_eviction_heard(warm, since)
        inside = receive(reception)  # the writing transaction links to the new domain at once
        assert host(Notification.objects.get(dossier=inside).text.rsplit(" ", 1)[-1]) == "motcua.danang.gov.vn"
    after = receive(reception)
    assert host(Notification.objects.get(dossier=after).text.rsplit(" ", 1)[-1]) == "motcua.danang.gov.vn"
    assert warm.get(PRIMARY_DOMAIN_PREFIX + "danang") == "motcua.danang.gov.vn"

    with committed():
        renamed = Domain.objects.get(domain="motcua.danang.gov.vn")
        renamed.domain = "dichvucong.danang.gov.vn"
        renamed.save()
    assert host(lookup_url(after)) == "dichvucong.danang.gov.vn"
    with committed():
        Domain.objects.filter(domain="dichvucong.danang.gov.vn").delete()
        old.is_primary = True
        old.save()
    assert host(lookup_url(after)) == "danang.localhost"


def test_a_shared_calendar_fills_a_year_once_for_all_its_threads():
    """The holidays library marks a year as filled before filling it: without the calendar's lock, a
    second thread asking in between is told that New Year's Day is a working day."""
    calendar = deadlines.WorkingCalendar()
    filling, release = threading.Event(), threading.Event()
    populate = calendar._holidays._populate

    def slow_populate(year):
        filling.set()
        assert release.wait(10)
        return populate(year)

    calendar._holidays._populate = slow_populate
    answers = {}

    def ask(name):
        answers[name] = calendar.is_working_day(date(2031, 1, 1))

    first = threading.Thread(target=ask, args=("first",))
    first.start()
    assert filling.wait(10)  # the first thread is filling 2031
    second = threading.Thread(target=ask, args=("second",))
    second.start()
    second.join(0.5)  # with the lock it waits for the first; without it, it answers now, wrongly
    early = dict(answers)
    release.set()
    first.join(10)
    second.join(10)
    assert early == {}
    assert answers == {"first": False, "second": False}
