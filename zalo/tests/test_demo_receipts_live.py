"""Delivery receipts reach the portal in ``make run``.

The fault this reproduces: the fake Zalo started by ``make run`` posts each receipt to the demo
province's webhook URL, ``http://<slug>.localhost:8000/zalo/webhook/``. Browsers resolve ``*.localhost``,
the system resolver does not, so every receipt failed to connect and the "Đến máy lúc" column stayed
empty. Here the fake runs exactly as Procfile.dev starts it (``python -m fakezalo --config …``, the
configuration written by ``seed_demo`` for the province: its demo OA, secrets, webhook URL on the
province's own domain) next to the portal as a real server process and a real worker; a message to a
citizen must come back as a signed receipt that the portal verifies, stores and applies: the
outbox row's delivered time is set. No 127.0.0.1 alias domain is added for the province (the live
stack's in-thread fake needs one; ``make run`` has none).
"""

import httpx
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from testing.live import live_stack, wait_for

pytestmark = [pytest.mark.worker]

SLUG = "thudemo"


@pytest.fixture
def db(django_db_setup):
    """The test database WITHOUT a test transaction (everything here is committed, as in production)."""


@pytest.fixture
def stack(db, django_db_blocker):
    with live_stack(
        django_db_blocker,
        slug=SLUG,
        name="Tỉnh Thử Demo",
        agency_code="000.00.01.H96",
        app=None,  # the demo OA and the fake as make run has them
        queues=settings.CELERY_TASK_DEFAULT_QUEUE,
    ) as live:
        yield live


def _in_province(province, query):
    with tenant_context(province):
        value = query()
    connection.set_schema_to_public()
    return value


def test_a_message_to_a_demo_province_comes_back_as_a_stored_delivery_receipt(stack, django_db_blocker):
    from dossiers import services
    from dossiers.models import Procedure
    from notifications.models import Channel, Kind, Notification
    from offices.models import Officer
    from zalo.models import DossierLink, Follower, ZaloAccount

    province = stack.province
    control = httpx.Client(base_url=stack.fake_url, timeout=10, trust_env=False)
    with django_db_blocker.unblock():
        account = _in_province(province, ZaloAccount.objects.get)
        [app] = control.get("/_fake/apps").json()["apps"]
        assert (app["oa_id"], app["webhook_url"]) == (account.oa_id, f"{stack.portal_url}/zalo/webhook/")
        stack.start_worker()

        # A citizen follows the OA and writes to it: the follow webhook is the portal's first receipt of
        # a signed event from the fake on the province's own domain.
        user_id = f"demo-{timezone.now().timestamp():.0f}"
        control.post("/_fake/follow", json={"oa_id": account.oa_id, "user_id": user_id, "name": "Người dân thử"})
        control.post("/_fake/interact", json={"oa_id": account.oa_id, "user_id": user_id})
        wait_for(
            lambda: _in_province(province, Follower.objects.filter(user_id=user_id, is_following=True).exists),
            60,
            "the follow webhook stored by the portal",
        )
        with tenant_context(province), transaction.atomic():
            procedure = Procedure.objects.get(code="1.004873")
            dossier = services.receive_dossier(
                officer=Officer.objects.get(user__username="motcua"),
                procedure=procedure,
                applicant=services.Applicant("Người dân thử", phone="0906012345"),
                components=[services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()],
            )
            Follower.objects.filter(user_id=user_id).update(last_interaction_at=timezone.now())
            DossierLink.objects.create(dossier=dossier, follower=Follower.objects.get(user_id=user_id))
            pk = Notification.objects.get(dossier=dossier, kind=Kind.RECEIPT).pk
        connection.set_schema_to_public()

        row = None

        def delivered():
            nonlocal row
            row = _in_province(province, lambda: Notification.objects.get(pk=pk))
            return row.delivered_at is not None

        wait_for(delivered, 90, "the delivery receipt stored by the portal (Đến máy lúc)")

    assert row.channel == Channel.CS and row.recipient == user_id
    [sent] = control.get("/_fake/messages", params={"msg_id": row.zalo_message_id}).json()["messages"]
    assert (sent["kind"], sent["recipient"]) == ("cs", user_id)
    receipts = [
        w
        for w in control.get("/_fake/webhooks").json()["webhooks"]
        if w["event_name"] == "user_received_message" and sent["msg_id"] in w["body"]
    ]
    assert receipts and all(w["url"] == f"{stack.portal_url}/zalo/webhook/" for w in receipts)
    assert receipts[-1]["ok"] and receipts[-1]["status"] == 200
    control.close()
