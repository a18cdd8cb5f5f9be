"""Forms that fit the job (issue 11.4): the intake checklist, the hand-over's officer list, receiving a
supplement item by item, and the words officers use."""

import json
import re
import shutil
import subprocess

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from conftest import otp_login
from dossiers import services
from dossiers.forms import HandOverForm, ReceiveSupplementForm
from dossiers.models import ComponentKind, Dossier, DossierComponent, Status
from dossiers.tests.factories import ProcedureFactory, receive
from offices.tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}


def client_for(officer):
    client = Client()
    otp_login(client, officer.user)
    return client


def action_url(dossier, action):
    return reverse("admin:dossiers_dossier_action", args=[dossier.pk, action])


def intake_url(procedure):
    return reverse("admin:dossiers_dossier_add") + f"?procedure={procedure.pk}"


APPLICANT = {"channel": 1, "applicant_name": "Phạm Thị Thu", "applicant_phone": "0905 222 333"}


# --- intake: the procedure's components as a checklist ------------------------------------------


def test_the_intake_shows_the_procedures_components_as_a_checklist(reception):
    procedure = ProcedureFactory()
    html = client_for(reception).get(intake_url(procedure), **HOST).content.decode()
    table = html.split('id="components"', 1)[1].split("</table>", 1)[0]
    for component in procedure.components.all():
        row = table.split(f'data-component="{component.pk}"', 1)[1].split("</tr>", 1)[0]
        tick = re.search(rf'<input type="checkbox" name="has_{component.pk}"[^>]*>', row).group(0)
        count = re.search(rf'<input type="number" name="count_{component.pk}"[^>]*>', row).group(0)
        assert component.name in row and component.get_kind_display() in row
        assert f'value="{component.count}"' in count
        # Required papers are marked and ticked to start with; an optional one is neither.
        assert ("checked" in tick) == component.required
        assert ("bắt buộc" in row) == component.required and ("nếu có" in row) != component.required
    # The counts are part of the checklist, not free number fields of their own.
    outside = html.replace(table, "")
    assert 'name="count_' not in outside


def test_the_ticked_papers_are_recorded_with_their_counts(reception):
    procedure = ProcedureFactory()
    form, birth, proxy = procedure.components.all()
    response = client_for(reception).post(
        intake_url(procedure),
        {
            **APPLICANT,
            f"has_{form.pk}": "on",
            f"count_{form.pk}": "2",
            f"has_{birth.pk}": "on",
            f"count_{birth.pk}": "",  # ticked, number left empty: the procedure's usual number
            f"count_{proxy.pk}": "abc",  # not ticked: its number does not matter
        },
        **HOST,
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    dossier = Dossier.objects.get(applicant_name="Phạm Thị Thu")
    papers = set(dossier.components.values_list("name", "kind", "count"))
    assert papers == {(form.name, form.kind, 2), (birth.name, birth.kind, birth.count)}


def test_a_required_paper_not_ticked_is_named_and_nothing_is_written(reception):
    procedure = ProcedureFactory()
    form, birth, proxy = procedure.components.all()
    data = {
        **APPLICANT,
        f"has_{form.pk}": "on",
        f"count_{form.pk}": "1",
        f"count_{birth.pk}": "1",  # a number, but the paper is not ticked as received
        f"has_{proxy.pk}": "on",
        f"count_{proxy.pk}": "1",
    }
    response = client_for(reception).post(intake_url(procedure), data, **HOST)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Hồ sơ chưa đủ thành phần bắt buộc: Giấy chứng sinh." in html
    assert not Dossier.objects.exists() and not DossierComponent.objects.exists()
    # The officer's ticks survive the error.
    assert re.search(rf'name="has_{proxy.pk}"[^>]*checked', html)
    assert not re.search(rf'name="has_{birth.pk}"[^>]*checked', html)


def test_a_ticked_paper_with_a_bad_number_is_refused(reception):
    procedure = ProcedureFactory()
    data = {**APPLICANT}
    for c in procedure.components.filter(required=True):
        data.update({f"has_{c.pk}": "on", f"count_{c.pk}": "0"})
    response = client_for(reception).post(intake_url(procedure), data, **HOST)
    assert response.status_code == 200 and not Dossier.objects.exists()


# --- hand-over: the department narrows the officer list ------------------------------------------


def test_each_officer_option_names_its_department_and_the_page_loads_the_script(officers, other_department):
    other = OfficerFactory(role="specialist", department=other_department, user__username="cv.khac")
    dossier = receive(officers["reception"], ProcedureFactory())
    html = client_for(officers["reception"]).get(action_url(dossier, "hand_over"), **HOST).content.decode()
    select = re.search(r'<select name="to_officer"[^>]*>(.*?)</select>', html, re.S)
    assert 'data-narrowed-by="to_department"' in html
    options = dict(re.findall(r'<option value="(\d+)" data-department="(\d+)"', select.group(1)))
    expected = {o.pk: o.department_id for o in (*officers.values(), other)}
    assert {int(k): int(v) for k, v in options.items()} == expected
    assert re.search(r'<script src="[^"]*/static/dossiers/handover\.js"', html)
    assert finders.find("dossiers/handover.js")


def test_without_the_script_an_officer_of_another_department_is_refused(officers, other_department):
    dossier = receive(officers["reception"], ProcedureFactory())
    response = client_for(officers["reception"]).post(
        action_url(dossier, "hand_over"),
        {"version": dossier.version, "to_department": other_department.pk, "to_officer": officers["specialist"].pk},
        **HOST,
    )
    assert response.status_code == 200
    assert "Cán bộ được chọn không thuộc phòng ban nhận hồ sơ." in response.content.decode()
    dossier.refresh_from_db()
    assert dossier.status == Status.ACCEPTED and dossier.current_officer == officers["reception"]


NODE_HARNESS = r"""
// A minimal DOM: one form with the department select and the officer select the page renders.
const fs = require("fs");
const [script, rendered] = [process.argv[2], JSON.parse(process.argv[3])];
let onReady = null;
function option(o) {
  return { value: o.value, hidden: false, disabled: false, selected: o.selected,
           getAttribute: (n) => (n === "data-department" ? o.department : null) };
}
const department = { value: rendered.department, listeners: [],
  addEventListener(type, f) { this.listeners.push(f); } };
const officers = { options: rendered.officers.map(option),
  getAttribute: (n) => (n === "data-narrowed-by" ? "to_department" : null),
  get value() { const s = this.options.find((o) => o.selected); return s ? s.value : ""; },
  set value(v) { this.options.forEach((o) => { o.selected = o.value === v; }); } };
officers.form = { elements: { namedItem: (n) => (n === "to_department" ? department : null) } };
global.document = { readyState: "complete", querySelectorAll: () => [officers],
  addEventListener: (t, f) => { onReady = f; } };
eval(fs.readFileSync(script, "utf8"));
const shown = () => officers.options.filter((o) => !o.hidden && !o.disabled).map((o) => o.value);
const states = [{ shown: shown(), value: officers.value }];
for (const choice of rendered.choose) {
  department.value = choice;
  department.listeners.forEach((f) => f());
  states.push({ shown: shown(), value: officers.value });
}
console.log(JSON.stringify(states));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run the page script")
def test_the_script_narrows_the_officers_to_the_chosen_department(officers, other_department, tmp_path):
    other = OfficerFactory(role="specialist", department=other_department, user__username="cv.khac2")
    dossier = receive(officers["reception"], ProcedureFactory())
    form = HandOverForm(dossier=dossier, initial={"to_officer": officers["specialist"].pk})
    html = str(form["to_officer"])  # the officer select as the page renders it
    rendered = []
    for attrs in re.findall(r"<option([^>]*)>", html):
        department = re.search(r'data-department="(\d+)"', attrs)
        rendered.append(
            {
                "value": re.search(r'value="(\d*)"', attrs).group(1),
                "department": department.group(1) if department else None,
                "selected": bool(re.search(r"\bselected\b", attrs)),
            }
        )
    assert sum(o["selected"] for o in rendered) == 1 and len(rendered) == 5  # the empty choice and 4 officers
    ward, other_dept = str(officers["specialist"].department_id), str(other_department.pk)
    harness = tmp_path / "harness.js"
    harness.write_text(NODE_HARNESS)
    data = {"department": "", "officers": rendered, "choose": [ward, other_dept, ""]}
    out = subprocess.run(
        ["node", str(harness), finders.find("dossiers/handover.js"), json.dumps(data)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    start, in_ward, in_other, again_all = json.loads(out.stdout)
    everyone = {str(o.pk) for o in (*officers.values(), other)}
    assert set(start["shown"]) == everyone | {""}  # no department chosen yet: everyone
    assert set(in_ward["shown"]) == {"", str(officers["specialist"].pk), str(officers["leader"].pk)}
    assert in_ward["value"] == str(officers["specialist"].pk)  # still a ward officer: kept
    assert set(in_other["shown"]) == {"", str(other.pk)}
    assert in_other["value"] == ""  # the ward officer is no longer a valid choice: unselected
    assert set(again_all["shown"]) == everyone | {""}


# --- receiving a supplement: what was asked, item by item ----------------------------------------


@pytest.fixture
def waiting(officers):
    """A dossier of the ward waiting for two papers (one of the procedure's, one other)."""
    reception, specialist = officers["reception"], officers["specialist"]
    dossier = receive(reception, ProcedureFactory(department=specialist.department))
    dossier = services.hand_over(dossier, reception, to_department=specialist.department, to_officer=specialist)
    return services.request_supplement(
        dossier,
        specialist,
        items=[
            services.MissingItem("Giấy chứng sinh", "Bản sao chưa chứng thực"),
            services.MissingItem("Ảnh 4x6", "Chưa nộp"),
        ],
        reason="Bổ sung một lần",
    )


def test_the_supplement_form_shows_each_item_asked_with_a_tick(waiting, officers):
    html = client_for(officers["reception"]).get(action_url(waiting, "receive_supplement"), **HOST).content.decode()
    table = html.split('id="supplement-checklist"', 1)[1].split("</table>", 1)[0]
    items = list(waiting.supplement_requests.get().items.all())
    for item in items:
        row = table.split(f'data-item="{item.pk}"', 1)[1].split("</tr>", 1)[0]
        assert item.name in row and item.reason in row
        assert re.search(rf'<input type="checkbox" name="item_{item.pk}"', row)
        assert not re.search(rf'name="item_{item.pk}"[^>]*checked', row)  # ticked by the officer, one by one
    assert "Bổ sung một lần" in html


def test_not_every_item_ticked_is_refused_naming_whats_missing(waiting, officers):
    first, second = waiting.supplement_requests.get().items.all()
    response = client_for(officers["reception"]).post(
        action_url(waiting, "receive_supplement"),
        {"version": waiting.version, f"item_{first.pk}": "on", f"count_{first.pk}": "1"},
        **HOST,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "còn thiếu: Ảnh 4x6" in html and "còn thiếu: Giấy chứng sinh" not in html
    dossier = Dossier.objects.get(pk=waiting.pk)
    assert dossier.status == Status.SUPPLEMENT and dossier.version == waiting.version
    assert not dossier.components.filter(added_by_supplement=True).exists()
    assert dossier.supplement_requests.get().received_at is None


def test_every_item_ticked_is_received_and_recorded(waiting, officers):
    request = waiting.supplement_requests.get()
    birth, photo = request.items.all()
    response = client_for(officers["reception"]).post(
        action_url(waiting, "receive_supplement"),
        {
            "version": waiting.version,
            f"item_{birth.pk}": "on",
            f"count_{birth.pk}": "1",
            f"item_{photo.pk}": "on",
            f"count_{photo.pk}": "2",
        },
        **HOST,
    )
    assert response.status_code == 302
    dossier = Dossier.objects.get(pk=waiting.pk)
    assert dossier.status == Status.IN_PROGRESS
    assert dossier.supplement_requests.get().received_at is not None
    added = set(dossier.components.filter(added_by_supplement=True).values_list("name", "kind", "count"))
    # The kind of a paper of the procedure's list is its kind; another paper's is "original or copy".
    assert added == {
        ("Giấy chứng sinh", ComponentKind.ORIGINAL, 1),
        ("Ảnh 4x6", ComponentKind.ORIGINAL_OR_COPY, 2),
    }


def test_the_form_asks_only_for_the_open_request(waiting, officers):
    """Items of an earlier, already received request are not asked again."""
    reception, specialist = officers["reception"], officers["specialist"]
    old = waiting.supplement_requests.get()
    form = ReceiveSupplementForm(dossier=waiting)
    assert [name for name in form.fields if name.startswith("item_")] == [f"item_{i.pk}" for i in old.items.all()]
    dossier = services.receive_supplement(
        waiting,
        reception,
        components=[services.SubmittedComponent(i.name, ComponentKind.ORIGINAL, 1) for i in old.items.all()],
    )
    dossier = services.request_supplement(dossier, specialist, items=[services.MissingItem("Tờ khai", "Sai ngày sinh")])
    form = ReceiveSupplementForm(dossier=dossier)
    [new] = dossier.supplement_requests.filter(received_at=None).get().items.all()
    assert [name for name in form.fields if name.startswith("item_")] == [f"item_{new.pk}"]
    assert form.fields[f"item_{new.pk}"].label == "Tờ khai"


# --- words officers recognise ----------------------------------------------------------------------


def test_the_counter_is_offered_tiep_nhan_ho_so_not_them_vao_ho_so(officers):
    client = client_for(officers["reception"])
    html = client.get(reverse("admin:dossiers_dossier_changelist"), {"worklist": "all"}, **HOST).content.decode()
    tools = html.split('class="object-tools"', 1)[1].split("</ul>", 1)[0]
    assert "Tiếp nhận hồ sơ" in tools and reverse("admin:dossiers_dossier_add") in tools
    assert "Thêm vào" not in html and "Thêm hồ sơ" not in html
    intake = client.get(reverse("admin:dossiers_dossier_add"), **HOST).content.decode()
    assert "<title>Tiếp nhận hồ sơ" in intake


def test_the_grade_and_the_result_have_their_own_names(officers):
    reception, leader = officers["reception"], officers["leader"]
    dossier = receive(reception, ProcedureFactory(department=leader.department))
    dossier = services.hand_over(dossier, reception, to_department=leader.department, to_officer=leader)
    dossier = services.mark_result_ready(dossier, leader, result="Giấy khai sinh số 7/2026")
    client = client_for(reception)
    page = client.get(reverse("admin:dossiers_dossier_change", args=[dossier.pk]), **HOST).content.decode()
    assert re.search(r"Kết quả đánh giá\s*:?\s*</label>", page, re.I)
    assert re.search(r"Kết quả giải quyết\s*:?\s*</label>", page, re.I)
    listing = client.get(reverse("admin:dossiers_dossier_changelist"), {"worklist": "all"}, **HOST).content.decode()
    headers = re.findall(r'<th scope="col"[^>]*>.*?</th>', listing, re.S)
    assert any("Kết quả đánh giá" in h for h in headers)
    row = listing.split(dossier.code, 1)[1].split("</tr>", 1)[0]
    assert dossier.get_grade_display() in row
