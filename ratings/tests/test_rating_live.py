"""Rating end to end, as `make run` has it (issue 13.5): the demo OA and the fake started as Procfile.dev
starts it, the portal as a real server, a real worker. The result is returned; the citizen who chats
with the OA gets the CS request with reply buttons and taps one on the fake's phone page; another, with
only a phone, taps a star under the ZNS rating template. Each tap comes back as a signed webhook that
the portal stores, the worker processes, and exactly one rating per dossier is recorded."""

import re

import httpx
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from testing.live import live_stack, wait_for

pytestmark = [pytest.mark.worker]

SLUG = "thudanhgia"


@pytest.fixture
def db(django_db_setup):
    """The test database WITHOUT a test transaction (everything here is committed, as in production)."""


@pytest.fixture
def stack(db, django_db_blocker):
    with live_stack(
        django_db_blocker,
        slug=SLUG,
        name="Tỉnh Thử Đánh Giá",
        agency_code="000.00.01.H95",
        app=None,  # the demo OA and the fake as make run has them
        queues=settings.CELERY_TASK_DEFAULT_QUEUE,
    ) as live:
        yield live


def _in_province(province, query):
    with tenant_context(province):
        value = query()
    connection.set_schema_to_public()
    return value


def _returned_dossier(phone):
    from dossiers import services
    from dossiers.models import Procedure
    from offices.models import Officer

    reception = Officer.objects.get(user__username="motcua")
    specialist = Officer.objects.get(user__username="chuyenvien")
    leader = Officer.objects.get(user__username="lanhdao")
    procedure = Procedure.objects.get(code="1.004873")
    dossier = services.receive_dossier(
        officer=reception,
        procedure=procedure,
        applicant=services.Applicant("Người dân thử", phone=phone),
        components=[services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()],
    )
    services.hand_over(dossier, reception, to_department=specialist.department, to_officer=specialist)
    services.mark_result_ready(dossier, leader, result="Giấy xác nhận số 1")
    return dossier, reception


def _tap(control, path, page_url, fields):
    response = control.post(path, data=fields)
    assert response.status_code == 303, response.text
    return page_url


def test_a_citizen_rates_by_tapping_on_the_phone_and_one_rating_is_recorded(stack, django_db_blocker):
    from dossiers import services
    from ratings.models import Rating
    from zalo.models import DossierLink, Follower, ZaloAccount

    province = stack.province
    control = httpx.Client(base_url=stack.fake_url, timeout=10, trust_env=False)
    with django_db_blocker.unblock():
        account = _in_province(province, ZaloAccount.objects.get)
        stack.start_worker()
        user_id = f"dg-{timezone.now().timestamp():.0f}"
        control.post("/_fake/follow", json={"oa_id": account.oa_id, "user_id": user_id, "name": "Người dân thử"})
        control.post("/_fake/interact", json={"oa_id": account.oa_id, "user_id": user_id})
        wait_for(
            lambda: _in_province(province, Follower.objects.filter(user_id=user_id).exists),
            60,
            "the follow webhook stored by the portal",
        )
        with tenant_context(province), transaction.atomic():
            by_chat, reception = _returned_dossier("0906012345")
            Follower.objects.filter(user_id=user_id).update(last_interaction_at=timezone.now())
            DossierLink.objects.create(dossier=by_chat, follower=Follower.objects.get(user_id=user_id))
            services.return_result(by_chat, reception)
            by_zns, _ = _returned_dossier("0906098765")
            services.return_result(by_zns, reception)
        connection.set_schema_to_public()

        # The CS request with its reply buttons on the citizen's phone; they tap "4".
        page_url = "/_fake/?" + httpx.QueryParams({"r": f"{account.oa_id}|{user_id}"}).__str__()

        def buttons_shown():
            return "/_fake/ui/tap_button" in control.get(page_url).text

        wait_for(buttons_shown, 90, "the rating request with reply buttons on the citizen's phone")
        page = control.get(page_url).text
        form = [
            f for f in re.findall(r'<form method="post" action="/_fake/ui/tap_button".*?</form>', page) if ' 4"' in f
        ]
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form[0]))
        _tap(control, "/_fake/ui/tap_button", page_url, fields)

        # The ZNS rating template on the other applicant's phone; they tap 1 star with a note.
        zns_url = "/_fake/?" + httpx.QueryParams({"r": f"{account.oa_id}|84906098765"}).__str__()
        wait_for(lambda: "/_fake/ui/zns_rate" in control.get(zns_url).text, 90, "the ZNS rating template")
        page = control.get(zns_url).text
        form = re.search(r'<form method="post" action="/_fake/ui/zns_rate".*?</form>', page).group(0)
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
        _tap(control, "/_fake/ui/zns_rate", zns_url, {**fields, "rate": "1", "note": "Phải đi lại ba lần"})
        _tap(control, "/_fake/ui/zns_rate", zns_url, {**fields, "rate": "5"})  # a second tap sends nothing

        ratings = {}

        def both_rated():
            ratings.update(
                _in_province(
                    province,
                    lambda: {r.dossier_id: r for r in Rating.objects.filter(dossier__in=[by_chat, by_zns])},
                )
            )
            return len(ratings) == 2

        wait_for(both_rated, 90, "both ratings recorded by the worker")
        thanks = [m["text"] for m in control.get("/_fake/messages", params={"recipient": user_id}).json()["messages"]]
    control.close()
    chat, zns = ratings[by_chat.pk], ratings[by_zns.pk]
    assert (chat.score, chat.source, chat.follower_user_id, chat.needs_answer) == (4, "button", user_id, False)
    assert (zns.score, zns.source, zns.comment, zns.needs_answer) == (1, "zns", "Phải đi lại ba lần", True)
    assert (chat.changes, zns.changes) == (0, 0)
    assert any("4/5" in text for text in thanks)
