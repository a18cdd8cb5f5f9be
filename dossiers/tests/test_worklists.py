"""Worklists per role (issue 11.4): which dossiers each list holds, who sees which lists, with what counts.

The membership test builds a dossier in every status, holder and date combination that matters, then
compares each list of each officer with the rule written out independently below (`expected`), and
checks a few cases by name as well. The same definitions serve the admin and the API's ``?worklist=``.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from conftest import otp_login
from dossiers import selectors, services
from dossiers.models import Channel, Dossier, Status
from dossiers.tests.factories import ProcedureFactory, all_components, receive
from offices.models import Department
from offices.roles import assign_role
from offices.tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}
CHANGELIST = "admin:dossiers_dossier_changelist"

RUNNING = {Status.ACCEPTED, Status.IN_PROGRESS, Status.FEES}
OPEN = {Status.REGISTERED, Status.ACCEPTED, Status.IN_PROGRESS, Status.SUPPLEMENT, Status.FEES, Status.RESULT_READY}


# --- the world: a counter, a ward (specialist + leader), another department (specialist + leader) ---


@pytest.fixture
def world(officers, other_department):
    counter, ward = officers["reception"], officers["specialist"]
    people = {
        "reception": counter,
        "specialist": ward,
        "leader": officers["leader"],
        "other_specialist": OfficerFactory(role="specialist", department=other_department, user__username="cv.sxd"),
        "other_leader": OfficerFactory(role="leader", department=other_department, user__username="ld.sxd"),
    }
    return people


def _dates():
    today = timezone.localdate()
    limit = selectors.due_soon_limit(today)
    return (
        today,
        limit,
        {
            "overdue": today - timedelta(days=1),
            "today": today,
            "limit": limit,  # the last day of "due within 2 working days"
            "later": limit + timedelta(days=1),
        },
    )


def build(world):
    """A dossier in each combination; returns {name: dossier}. Dates are set on running ones afterwards."""
    r, s, leader = world["reception"], world["specialist"], world["leader"]
    s2, l2 = world["other_specialist"], world["other_leader"]
    ward, other = s.department, s2.department
    p_ward, p_other = ProcedureFactory(department=ward), ProcedureFactory(department=other)
    applicant = services.Applicant(name="Lê Thị Mai", phone="0905000111")
    made = {}

    def online(channel):
        return services.register_online(
            procedure=p_ward, applicant=applicant, components=all_components(p_ward), channel=channel
        )

    def handed(to_department, to_officer=None, procedure=p_ward):
        d = receive(r, procedure)
        return services.hand_over(d, r, to_department=to_department, to_officer=to_officer)

    made["registered_online"] = online(Channel.ONLINE)
    made["registered_postal"] = online(Channel.POSTAL)
    made["refused"] = services.refuse(online(Channel.ONLINE), r, reason="Thiếu chữ ký")
    made["accepted_at_counter"] = receive(r, p_ward)
    made["withdrawn"] = services.withdraw(receive(r, p_ward), r, reason="Công dân xin rút")
    made["counter_supplement"] = services.request_supplement(
        receive(r, p_ward), r, items=[services.MissingItem("Tờ khai", "Chưa ký")]
    )
    for when in ("overdue", "today", "limit", "later"):
        made[f"specialist_{when}"] = handed(ward, s)
    made["ward_unassigned"] = handed(ward)
    made["handed_to_leader"] = handed(ward, leader)
    made["handed_to_leader_overdue"] = handed(ward, leader)
    made["ward_supplement"] = services.request_supplement(
        handed(ward, s), s, items=[services.MissingItem("Giấy chứng sinh", "Bản sao chưa chứng thực")]
    )
    made["ward_fees"] = services.request_fees(handed(ward, s), s, amount=50_000)
    made["other_in_progress"] = handed(other, s2, p_other)
    made["other_overdue"] = handed(other, s2, p_other)
    made["other_handed_to_leader"] = handed(other, l2, p_other)
    made["other_supplement"] = services.request_supplement(
        handed(other, s2, p_other), s2, items=[services.MissingItem("Tờ khai", "Sai họ tên")]
    )
    made["result_ready"] = services.mark_result_ready(handed(ward, leader), leader, result="Giấy khai sinh số 1/2026")
    made["returned"] = services.return_result(
        services.mark_result_ready(handed(ward, leader), leader, result="Giấy khai sinh số 2/2026"), r
    )
    made["stopped"] = services.stop(handed(ward, s), leader, reason="Quá hạn bổ sung")

    today, limit, dates = _dates()
    due = {
        "specialist_overdue": dates["overdue"],
        "specialist_today": dates["today"],
        "specialist_limit": dates["limit"],
        "specialist_later": dates["later"],
        "handed_to_leader": dates["later"],
        "handed_to_leader_overdue": dates["overdue"],
        "ward_unassigned": dates["limit"],
        "ward_fees": dates["overdue"],  # fees pending: the clock runs
        "accepted_at_counter": dates["today"],
        "other_in_progress": dates["later"],
        "other_overdue": dates["overdue"],
        "other_handed_to_leader": dates["later"],
        # Past their due date but not running: never "overdue" nor "due soon".
        "ward_supplement": dates["overdue"],
        "other_supplement": dates["overdue"],
        "counter_supplement": dates["today"],
        "result_ready": dates["overdue"],
        "returned": dates["overdue"],
        "stopped": dates["overdue"],
        "withdrawn": dates["overdue"],
    }
    for name, day in due.items():
        Dossier.objects.filter(pk=made[name].pk).update(due_date=day)  # test set-up: place it in time
    return {name: Dossier.objects.get(pk=d.pk) for name, d in made.items()}


def expected(key, officer, d, today, limit):
    """The worklists, restated from the issue: is dossier `d` in `officer`'s list `key`?"""
    dept = officer.department
    at_counter = dept.is_reception
    leader = officer.user.has_perm("dossiers.sign_result")
    in_dept = d.current_department_id == dept.pk
    visible = at_counter or in_dept  # the counter sees every dossier; others their department's
    running = d.status in RUNNING
    rule = {
        "registered": d.status == Status.REGISTERED and d.channel in (Channel.ONLINE, Channel.POSTAL),
        "result_ready": d.status == Status.RESULT_READY,
        "overdue": running and d.due_date < today,
        "due_soon": running and today <= d.due_date <= limit,
        "mine": d.current_officer_id == officer.pk and d.status in OPEN,
        "department": in_dept and (running or d.status == Status.SUPPLEMENT),
        "supplement": d.status == Status.SUPPLEMENT and (in_dept or at_counter),
        "to_sign": leader
        and in_dept
        and d.current_officer_id == officer.pk
        and d.status in (Status.ACCEPTED, Status.IN_PROGRESS),
        "department_overdue": in_dept and running and d.due_date < today,
    }[key]
    return visible and rule


def members(key, user):
    return set(
        selectors.visible_dossiers(user).filter(selectors.worklist_filter(key, user)).values_list("pk", flat=True)
    )


def test_each_worklist_holds_exactly_the_dossiers_its_rule_names(world):
    made = build(world)
    today, limit, _dates_ = _dates()
    names = {d.pk: name for name, d in made.items()}
    for role, officer in world.items():
        for key in selectors.WORKLISTS:
            want = {d.pk for d in made.values() if expected(key, officer, d, today, limit)}
            got = members(key, officer.user)
            assert got == want, (role, key, sorted(names[pk] for pk in got ^ want))
    # The test can fail: every list holds something for someone, and no list holds everything.
    for key in selectors.WORKLISTS:
        sizes = [len(members(key, o.user)) for o in world.values()]
        assert max(sizes) > 0, key
        assert max(sizes) < len(made), key


def test_the_cases_the_issue_names(world):
    made = build(world)
    r, s, leader = world["reception"].user, world["specialist"].user, world["leader"].user
    s2 = world["other_specialist"].user

    def lists_of(user, name):
        """The lists of the user's role that hold the dossier called `name`."""
        return {key for key in selectors.worklists_for(user) if made[name].pk in members(key, user)}

    # Online and postal registrations wait at the counter; a counter intake is accepted already.
    assert "registered" in lists_of(r, "registered_online") and "registered" in lists_of(r, "registered_postal")
    assert "registered" not in lists_of(r, "accepted_at_counter")
    # A signed result waits at the counter to be handed over (before: in no list at all).
    assert lists_of(r, "result_ready") == {"result_ready"}
    assert lists_of(r, "returned") == set() and lists_of(r, "stopped") == set() and lists_of(r, "refused") == set()
    # Overdue: the clock runs (fees included) and the due date has passed; a paused dossier is not late.
    assert {"overdue"} <= lists_of(r, "specialist_overdue") and "overdue" in lists_of(r, "ward_fees")
    assert "overdue" not in lists_of(r, "ward_supplement") and "overdue" not in lists_of(r, "result_ready")
    # Due within 2 working days: today up to the limit, not later, not past.
    assert "due_soon" in lists_of(r, "specialist_today") and "due_soon" in lists_of(r, "specialist_limit")
    assert "due_soon" not in lists_of(r, "specialist_later") and "due_soon" not in lists_of(r, "specialist_overdue")
    # The specialist: what they hold, what their department holds, what waits for a supplement there.
    assert lists_of(s, "specialist_later") == {"mine", "department"}
    assert lists_of(s, "ward_unassigned") == {"department"}
    assert lists_of(s, "ward_supplement") == {"mine", "department", "supplement"}
    assert lists_of(s, "other_supplement") == set() and lists_of(s2, "other_supplement") >= {"supplement"}
    assert "supplement" in lists_of(r, "ward_supplement")  # the citizen may bring the papers to the counter
    # The leader signs what was handed to them; their department's late dossiers are theirs to chase.
    assert lists_of(leader, "handed_to_leader") == {"to_sign"}
    assert lists_of(leader, "handed_to_leader_overdue") == {"to_sign", "department_overdue"}
    assert "to_sign" not in lists_of(s, "handed_to_leader")
    assert "to_sign" not in lists_of(leader, "specialist_later")  # the specialist still holds it
    assert "to_sign" not in lists_of(leader, "other_handed_to_leader")  # another department's leader
    assert "to_sign" in lists_of(world["other_leader"].user, "other_handed_to_leader")
    assert "department_overdue" in lists_of(leader, "specialist_overdue")
    assert "department_overdue" in lists_of(leader, "handed_to_leader_overdue")
    assert "department_overdue" not in lists_of(leader, "other_overdue")


def test_each_role_has_its_own_lists_its_main_one_first(world, in_danang):
    assert selectors.worklists_for(world["reception"].user) == (
        "registered",
        "result_ready",
        "overdue",
        "due_soon",
        "supplement",
    )
    assert selectors.worklists_for(world["specialist"].user) == ("mine", "department", "supplement")
    assert selectors.worklists_for(world["leader"].user) == ("to_sign", "department_overdue")
    overseer = User.objects.create_user("giamsat.test", password="Mat-khau-dai-1", is_staff=True)
    assign_role(overseer, "province_admin")  # no officer profile: the province's alarms
    assert selectors.worklists_for(overseer) == ("overdue", "due_soon")
    nobody = User.objects.create_user("khach.test", password="Mat-khau-dai-1", is_staff=True)
    assert selectors.worklists_for(nobody) == ()
    admin_officer = OfficerFactory(role="province_admin", user__username="quantri.phong")  # not at the counter
    assert selectors.worklists_for(admin_officer.user) == ("overdue", "due_soon")
    # Without an officer profile, "my department's" lists are empty, not "dossiers with no department".
    assert all(not members(key, overseer) for key in ("mine", "department", "supplement", "to_sign"))


def test_counts_match_the_lists_in_one_query(world, django_assert_max_num_queries):
    build(world)
    for officer in world.values():
        user = User.objects.get(pk=officer.user.pk)  # fresh: no cached officer, department or permissions
        keys = selectors.worklists_for(user)
        # The calendar (for "due soon") and one aggregate; django-tenants sets the search_path before each.
        with django_assert_max_num_queries(2 * 2):
            counts = selectors.worklist_counts(user, keys=keys)
        assert counts == {key: len(members(key, user)) for key in keys}


# --- the admin: each role's lists with counts, the main one as landing page ---------------------


def client_for(officer):
    client = Client()
    otp_login(client, officer.user)
    return client


def filter_links(html):
    """The worklist filter's choices as shown: [(text, href, selected)]."""
    import re

    block = html.split("danh sách công việc", 1)[1].split("</ul>", 1)[0]
    return [
        (re.sub(r"\s+", " ", text).strip(), href, bool(selected))
        for selected, href, text in re.findall(r'<li( class="selected")?>\s*<a href="([^"]*)">(.*?)</a>', block, re.S)
    ]


@pytest.mark.parametrize(
    "role, landing",
    [("reception", "registered"), ("specialist", "mine"), ("leader", "to_sign")],
)
def test_each_role_opens_on_its_main_list_and_sees_only_its_lists_with_counts(
    world, role, landing, django_assert_max_num_queries
):
    made = build(world)
    officer = world[role]
    client = client_for(officer)
    url = reverse(CHANGELIST)
    # About 17 queries (session, user, second factor, officer, permissions, calendar, the counts, the
    # page, the filters), each after django-tenants' SET search_path: not one per row or per list.
    with django_assert_max_num_queries(2 * 20):
        response = client.get(url, **HOST)  # the bare dossier list
    assert response.status_code == 200
    page = response.content.decode()
    keys = selectors.worklists_for(officer.user)
    shown = filter_links(page)
    assert shown[0] == ("Tất cả hồ sơ", "?worklist=all", False)
    assert [(text, selected) for text, _href, selected in shown[1:]] == [
        (f"{selectors.WORKLISTS[key]} ({len(members(key, officer.user))})", key == landing) for key in keys
    ]
    assert f"<title>Hồ sơ: {selectors.WORKLISTS[landing]} |" in page
    assert all(f"{selectors.WORKLISTS[key]} (" not in page for key in selectors.WORKLISTS if key not in keys)
    # The landing list shows exactly its dossiers.
    listed = {d.code for d in made.values() if d.code in page}
    assert listed == {d.code for d in made.values() if d.pk in members(landing, officer.user)}
    assert listed  # something to see on each role's landing page


def test_the_changelist_does_not_grow_with_rows(world, django_assert_max_num_queries):
    client = client_for(world["reception"])
    url = reverse(CHANGELIST)
    for _ in range(3):
        receive(world["reception"])
    with django_assert_max_num_queries(2 * 20) as few:
        client.get(url, {"worklist": "all"}, **HOST)
    for _ in range(12):
        d = receive(world["reception"])
        services.hand_over(
            d, world["reception"], to_department=world["specialist"].department, to_officer=world["specialist"]
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url, {"worklist": "all"}, **HOST).content.decode()
    assert page.count('class="field-code"') >= 15


def test_all_is_a_choice_and_a_search_looks_everywhere(world):
    made = build(world)
    client = client_for(world["reception"])
    url = reverse(CHANGELIST)
    everything = client.get(url, {"worklist": "all"}, **HOST).content.decode()
    assert all(d.code in everything for d in made.values())  # the counter sees every dossier
    # From the landing list, a search finds a dossier of any list (the search form drops the worklist).
    landing = client.get(url, {"worklist": "registered"}, **HOST).content.decode()
    assert 'name="worklist"' not in landing.split('id="changelist-search"', 1)[1].split("</form>", 1)[0]
    found = client.get(url, {"q": made["returned"].code}, **HOST).content.decode()
    assert made["returned"].code in found


def test_the_api_worklist_uses_the_same_definitions(world):
    made = build(world)
    for officer in (world["reception"], world["specialist"], world["leader"]):
        token, _ = Token.objects.get_or_create(user=officer.user)
        client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
        for key in selectors.WORKLISTS:
            body = client.get("/api/v1/dossiers/", {"worklist": key, "limit": 100}, **HOST).json()
            codes = {d["code"] for d in body["results"]}
            want = {d.code for d in made.values() if d.pk in members(key, officer.user)}
            assert codes == want, (officer.user.username, key)


def test_a_dossier_moves_between_lists_as_it_moves_through_the_workflow(world):
    r, s, leader = world["reception"], world["specialist"], world["leader"]
    procedure = ProcedureFactory(department=s.department)
    d = services.register_online(
        procedure=procedure, applicant=services.Applicant(name="Võ Văn Ba"), components=all_components(procedure)
    )

    def where():
        return {
            (role, key)
            for role, officer in (("r", r), ("s", s), ("l", leader))
            for key in selectors.worklists_for(officer.user)
            if d.pk in members(key, officer.user)
        }

    assert where() == {("r", "registered")}
    d = services.accept(d, r)
    d = services.hand_over(d, r, to_department=s.department, to_officer=s)
    assert ("s", "mine") in where() and not {k for who, k in where() if who == "l" and k == "to_sign"}
    d = services.hand_over(d, s, to_department=s.department, to_officer=leader, internal_note="Trình lãnh đạo ký")
    assert ("l", "to_sign") in where() and ("s", "mine") not in where()
    d = services.mark_result_ready(d, leader, result="Giấy khai sinh số 3/2026")
    assert ("r", "result_ready") in where() and ("l", "to_sign") not in where()
    services.return_result(d, r)
    assert where() == set()


def test_department_of_an_officer_decides_reception(world):
    """An officer of a one-stop-shop department is at the counter whatever else they may do."""
    desk = Department.objects.get(is_reception=True)
    counter_leader = OfficerFactory(role="leader", department=desk, user__username="ld.motcua")
    assert selectors.worklists_for(counter_leader.user)[:2] == ("registered", "result_ready")
    assert "to_sign" in selectors.worklists_for(counter_leader.user)
