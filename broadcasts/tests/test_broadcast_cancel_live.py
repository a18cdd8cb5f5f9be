"""Issue 10.2, cancel means stop: through a real worker and the fake Zalo with slowed sends, a
broadcast cancelled in the middle sends at most one more message per worker process after
`services.cancel()` returns (counted at the fake); the control, not cancelled, reaches everyone once."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from testing.live import live_stack, wait_for
from testing.zalo import APP

pytestmark = [pytest.mark.worker]
FOLLOWERS = 40
CS = "/v3.0/oa/message/cs"


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with live_stack(
        django_db_blocker, slug="thuhuytin", name="Tỉnh Thử Hủy Tin", agency_code="000.00.01.H97", app=APP,
        queues="broadcasts,default",
    ) as live:  # fmt: skip
        live.start_worker()
        with django_db_blocker.unblock(), tenant_context(live.province):
            from offices.tests.factories import OfficerFactory
            from zalo.models import Follower

            for i in range(FOLLOWERS):
                Follower.objects.create(user_id=f"h-{i}", is_following=True, last_interaction_at=timezone.now())
                live.fake.interact(f"h-{i}")
            live.officers = OfficerFactory(role="province_admin"), OfficerFactory(role="province_admin")
        connection.set_schema_to_public()
        yield live


def _broadcast(stack, title):
    from broadcasts import services
    from broadcasts.models import Severity

    author, _approver = stack.officers
    b = services.create(
        author, category="storm_flood", severity=Severity.EMERGENCY, title=title,
        body="Sơ tán ngay khỏi vùng trũng.", expires_at=timezone.now() + timedelta(hours=6),
    )  # fmt: skip
    services.submit(b, author)
    return b


def _accepted(fake, b):
    """Messages of this broadcast the fake accepted (each follower's phone would show them)."""
    from broadcasts.delivery import message_text

    text = message_text(b)
    return [m for m in fake.find_messages(kind="cs") if m["text"] == text]


def _statuses(stack, b):
    from broadcasts.models import Recipient

    with tenant_context(stack.province):
        return Counter(Recipient.objects.filter(broadcast_id=b.pk).values_list("status", flat=True))


def _settled(stack, b):
    """Every recipient row is final: nobody is being sent to, nobody can be claimed any more."""
    counts = _statuses(stack, b)
    return sum(counts.values()) == FOLLOWERS and not {"pending", "sending", "uncertain"} & set(counts)


def test_cancel_stops_sending(stack, django_db_blocker):
    from broadcasts import services
    from broadcasts.models import Broadcast, State

    fake = stack.fake
    with django_db_blocker.unblock():
        with tenant_context(stack.province):
            b = _broadcast(stack, "Lũ quét — tin sẽ bị hủy")
            fake.set_faults(slow_seconds=0.3, slow_next=0, fault_paths=[CS])  # every send takes 0.3 s
            services.approve(b, stack.officers[1])
        connection.set_schema_to_public()
        try:
            fake.wait_until(lambda f: len(_accepted(f, b)) >= 7, timeout=60)
            with tenant_context(stack.province):
                services.cancel(Broadcast.objects.get(pk=b.pk), stack.officers[1], "Lũ đã rút")
            at_return = len(_accepted(fake, b))
            wait_for(lambda: _settled(stack, b), 60, "every recipient row to be final")
        finally:
            fake.set_faults(slow_seconds=0.0, slow_next=0, fault_paths=[])
            connection.set_schema_to_public()
        final = _accepted(fake, b)
        counts = _statuses(stack, b)
        with tenant_context(stack.province):
            state = Broadcast.objects.get(pk=b.pk).state
        connection.set_schema_to_public()

    assert 7 <= at_return < FOLLOWERS
    workers = len([w for w in stack.workers if w.poll() is None])
    assert len(final) - at_return <= workers, (at_return, len(final), counts)
    assert counts["sent"] == len(final) and counts["sent"] + counts["skipped"] == FOLLOWERS, counts
    assert state == State.CANCELLED
    assert fake.stats()["duplicates"] == {}


def test_control_without_cancel_everyone_gets_it_once(stack, django_db_blocker):
    from broadcasts import services
    from broadcasts.models import Broadcast, State

    fake = stack.fake
    with django_db_blocker.unblock():
        with tenant_context(stack.province):
            b = _broadcast(stack, "Lũ quét — tin gửi hết")
            services.approve(b, stack.officers[1])
        connection.set_schema_to_public()
        wait_for(lambda: _settled(stack, b), 60, "every recipient row to be final")
        with tenant_context(stack.province):
            wait_for(lambda: Broadcast.objects.get(pk=b.pk).state == State.SENT, 30, "the broadcast to be sent")
        connection.set_schema_to_public()
        counts = _statuses(stack, b)

    assert counts == {"sent": FOLLOWERS}
    per_follower = Counter(m["recipient"] for m in _accepted(fake, b))
    assert per_follower == {f"h-{i}": 1 for i in range(FOLLOWERS)}
