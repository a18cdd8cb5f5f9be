"""merge_province (provinces/merging.py) on seeded data: two (or three) throwaway provinces made and
seeded inside the test's transaction, so their schemas go with its rollback."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tenants.utils import tenant_context

from broadcasts.models import Broadcast, Recipient
from dossiers.models import Dossier, DossierEvent, Procedure
from notifications.models import Notification
from offices.models import AccountAudit, Department, Officer
from provinces.management.commands.seed_demo import SEEDERS
from provinces.merging import MAP_TABLE, MergeError, merge_province, tenant_models
from provinces.models import Domain, Province
from provinces.services import ProvinceSpec, create_province
from reports.indicators import Scope, figures, figures_direct
from zalo.models import DossierLink, Follower, FollowerWard

pytestmark = pytest.mark.django_db

SOURCE = ProvinceSpec("Tỉnh Cũ Thử", "tinhcu", "tinhcu.localhost", "000.00.01.H91", 79)
TARGET = ProvinceSpec("Thành phố Mới Thử", "tinhmoi", "tinhmoi.localhost", "000.00.01.H92", 79)
TARGET2 = ProvinceSpec("Thành phố Mới Hai", "tinhhai", "tinhhai.localhost", "000.00.01.H93", 79)
SHARED_ZALO_USER = "zl-nguoi-chung"

COUNTED = {
    "dossiers": Dossier,
    "events": DossierEvent,
    "notifications": Notification,
    "followers": Follower,
    "links": DossierLink,
    "broadcasts": Broadcast,
    "recipients": Recipient,
}


@pytest.fixture(autouse=True)
def _short_history(settings):
    settings.DEMO_HISTORY_WEEKS = 1  # a week of back-dated work is plenty to move


def seeded(spec, *, local=False):
    province, _created = create_province(spec)
    with tenant_context(province):
        for path in SEEDERS:
            import_string(path)(province)
        officer = Officer.objects.select_related("department").first()
        shared = Follower.objects.create(user_id=SHARED_ZALO_USER, display_name="Người chung", is_following=True)
        own = Follower.objects.create(user_id=f"zl-{spec.slug}", display_name="Người riêng", is_following=True)
        FollowerWard.objects.create(follower=shared, ward_code="26734", ward_name="Phường Sài Gòn", source="chat")
        FollowerWard.objects.create(follower=own, ward_code="26737", ward_name="Phường Bến Thành", source="chat")
        for dossier in Dossier.objects.order_by("pk")[:3]:
            DossierLink.objects.create(dossier=dossier, follower=own)
        DossierLink.objects.create(dossier=Dossier.objects.order_by("pk").first(), follower=shared)
        broadcast = Broadcast.objects.create(
            category="storm_flood",
            severity="warning",
            title="Cảnh báo mưa lớn",
            body="Mưa lớn diện rộng, đề nghị người dân chủ động phòng tránh.",
            expires_at=timezone.now() + timezone.timedelta(days=1),
            created_by=officer,
        )
        Broadcast.objects.create(
            category="storm_flood",
            severity="warning",
            title="Đính chính cảnh báo",
            body="Đính chính thời gian mưa.",
            expires_at=timezone.now() + timezone.timedelta(days=1),
            created_by=officer,
            corrects=broadcast,
        )
        for follower in (shared, own):
            Recipient.objects.create(broadcast=broadcast, follower=follower)
        if local:
            Department.objects.create(code="PHONG-RIENG", name="Phòng riêng của tỉnh cũ")
            Procedure.objects.create(
                code="TINHCU.001",
                name="Thủ tục riêng của tỉnh cũ",
                department=officer.department,
                processing_days=3,
            )
            unique_user = User.objects.create_user("chi.tinhcu", password="x")
            Officer.objects.create(user=unique_user, department=officer.department)
    connection.set_schema_to_public()
    return province


def counts(province):
    with tenant_context(province):
        return {name: model.objects.count() for name, model in COUNTED.items()}


def all_table_counts(*provinces):
    out = {}
    with connection.cursor() as cursor:
        for province in provinces:
            for model in tenant_models():
                cursor.execute(f'SELECT count(*) FROM "{province.schema_name}"."{model._meta.db_table}"')  # noqa: S608
                out[(province.slug, model._meta.label_lower)] = cursor.fetchone()[0]
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{province.schema_name}"."{MAP_TABLE}"'])
            out[(province.slug, MAP_TABLE)] = cursor.fetchone()[0]
    return out


def a_dossier_with_phone(province):
    with tenant_context(province):
        dossier = Dossier.objects.exclude(applicant_phone="").order_by("pk").first()
        return dossier.code, dossier.lookup_token, dossier.applicant_phone


def test_merge_moves_everything_keeps_printed_links_and_reports_conflicts():
    source, target = seeded(SOURCE, local=True), seeded(TARGET)
    before_source, before_target = counts(source), counts(target)
    code, token, phone = a_dossier_with_phone(source)
    today = timezone.localdate()
    everything = Scope(start=today - timedelta(days=365), end=today)
    received_before = {}
    for province in (source, target):
        with tenant_context(province):
            received_before[province.slug] = figures(everything).received

    report = merge_province("tinhcu", "tinhmoi")

    assert report.verified
    after = counts(target)
    # Every dossier, timeline entry, notification, link, broadcast and recipient is in the target once;
    # the follower both OAs share (same Zalo user id) is one follower.
    for name in COUNTED:
        merged = 1 if name == "followers" else 0
        assert after[name] == before_target[name] + before_source[name] - merged, name
    assert counts(source) == before_source  # the old schema is kept as it was
    # The dashboard's figures (derived data, not copied: their keys are renumbered ids) are recomputed
    # in the target: equal to a direct count over both provinces' dossiers, now the target's.
    with tenant_context(target):
        assert figures(everything) == figures_direct(everything)
        assert figures(everything).received == received_before["tinhcu"] + received_before["tinhmoi"] > 0
    assert report.models["zalo.follower"].conflicts == {"merged:user_id": 1}
    # The shared follower chose the same ward in both OAs: kept once; the other follower's is copied.
    assert report.models["zalo.followerward"].merged == 1

    # Conflicts: every demo login and department of the old province renamed with its prefix, the
    # officers told; the national procedures merged, the local one copied.
    renamed = dict(report.models["auth.user"].renamed)
    assert renamed["motcua"] == "tinhcu.motcua" and "chi.tinhcu" not in renamed
    assert dict(report.models["offices.department"].renamed)["TTHCC"] == "TINHCU-TTHCC"
    with tenant_context(target):
        moved = User.objects.get(username="tinhcu.motcua")
        assert moved.officer.department.code == "TINHCU-TTHCC"
        assert User.objects.filter(username="motcua").count() == 1  # the target's own
        assert User.objects.filter(username="chi.tinhcu").exists()
        audit = AccountAudit.objects.get(target=moved)
        assert "“motcua” đổi thành “tinhcu.motcua”" in audit.detail
        assert Department.objects.filter(code="PHONG-RIENG").exists()
        assert Procedure.objects.filter(code="TINHCU.001").exists()
        assert Procedure.objects.filter(code="1.001193").count() == 1
        dossier = Dossier.objects.get(code=code)
        assert dossier.lookup_token == token
        assert dossier.procedure.code in set(Procedure.objects.values_list("code", flat=True))
        assert dossier.events.count() > 0
        links = Follower.objects.get(user_id=SHARED_ZALO_USER).dossier_links.count()
        assert links == 2  # one from each province on the one follower
        correction = Broadcast.objects.get(
            title="Đính chính cảnh báo", created_by__department__code__startswith="TINHCU-"
        )
        assert correction.corrects.title == "Cảnh báo mưa lớn"  # the reference within the table, remapped
        assert correction.corrects.created_by_id == correction.created_by_id
    assert report.conflicts()[("auth.user", "renamed:username")] == 10
    assert report.conflicts()[("dossiers.procedure", "merged:code")] >= 12

    # Nothing printed breaks: the old QR link and the old code + verifier, on the old and the new domain.
    assert Domain.objects.get(domain="tinhcu.localhost").tenant == target
    assert not Domain.objects.get(domain="tinhcu.localhost").is_primary
    assert target.get_primary_domain().domain == "tinhmoi.localhost"
    for host in ("tinhcu.localhost", "tinhmoi.localhost"):
        page = Client().get(f"/tra-cuu/{token}/", HTTP_HOST=host)
        assert page.status_code == 200, host
        assert code in page.content.decode()
        found = Client().post("/tra-cuu/", {"code": code, "verifier": phone}, HTTP_HOST=host)
        assert found.status_code == 200, host
        assert code in found.content.decode()

    # The renamed officers are told on the login page of both domains.
    for host in ("tinhcu.localhost", "tinhmoi.localhost"):
        login = Client().get("/admin/login/", HTTP_HOST=host).content.decode()
        assert "Cán bộ của Tỉnh Cũ Thử (đã sáp nhập)" in login and "“tinhcu.motcua”" in login

    # The old province is marked, its schema refuses writes, and a second merge is refused.
    source.refresh_from_db()
    assert source.merged_into == target and source.merged_at is not None
    with pytest.raises(DatabaseError, match="read-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute('UPDATE "tinhcu".dossiers_dossier SET applicant_name = %s', ["x"])
    with pytest.raises(MergeError, match="đã được sáp nhập vào Thành phố Mới Thử"):
        merge_province("tinhcu", "tinhmoi")


def test_a_crash_half_way_then_a_rerun_ends_like_an_uninterrupted_merge():
    source, first, second = seeded(SOURCE), seeded(TARGET), seeded(TARGET2)
    before_source = counts(source)
    first_before, second_before = counts(first), counts(second)
    total = merge_province("tinhcu", "tinhmoi", dry_run=True, batch_size=25).batches
    assert total > 10

    class Crash(Exception):
        pass

    def crash(label, n):
        if n == total // 2:
            raise Crash(label)

    with pytest.raises(Crash):
        merge_province("tinhcu", "tinhmoi", batch_size=25, batch_hook=crash)
    source.refresh_from_db()
    assert source.merged_into is None
    assert Domain.objects.get(domain="tinhcu.localhost").tenant == source  # not yet an alias
    half = counts(first)
    assert half != first_before  # some batches are in
    resumed = merge_province("tinhcu", "tinhmoi", batch_size=25)
    assert resumed.verified
    assert resumed.batches < total  # the rerun continued, it did not start again
    after = counts(first)
    for name in COUNTED:
        assert after[name] == first_before[name] + before_source[name] - (name == "followers"), name

    # The same source into a fresh, identically seeded target without a crash.
    Province.objects.filter(pk=source.pk).update(merged_into=None, merged_at=None)
    uninterrupted = merge_province("tinhcu", "tinhhai", batch_size=25)
    assert uninterrupted.verified
    assert resumed.verification() == uninterrupted.verification()
    assert resumed.conflicts() == uninterrupted.conflicts()
    assert counts(second) == {k: second_before[k] + before_source[k] - (k == "followers") for k in COUNTED}


def test_dry_run_writes_nothing_and_reports_what_would_move(capsys):
    source, target = seeded(SOURCE), seeded(TARGET)
    before = all_table_counts(source, target)

    call_command("merge_province", "--from", "tinhcu", "--into", "tinhmoi", "--dry-run")

    output = capsys.readouterr().out
    assert "Chạy thử (không ghi gì): tinhcu → tinhmoi" in output
    assert "dossiers.dossierevent" in output and "renamed:username" in output
    assert "đổi tên auth.user: motcua → tinhcu.motcua" in output
    assert "merged:user_id" in output
    assert all_table_counts(source, target) == before  # no id map either
    source.refresh_from_db()
    assert source.merged_into is None
    assert Domain.objects.get(domain="tinhcu.localhost").tenant == source
    with tenant_context(source):  # not frozen
        Department.objects.create(code="VAN-GHI-DUOC", name="Vẫn ghi được")


def test_clear_errors_for_itself_an_unknown_or_a_merged_province():
    a, _ = create_province(SOURCE)
    b, _ = create_province(TARGET)
    c, _ = create_province(TARGET2)
    with pytest.raises(CommandError, match="chính nó"):
        call_command("merge_province", "--from", "tinhcu", "--into", "tinhcu")
    with pytest.raises(CommandError, match="Không có tỉnh “khongco”"):
        call_command("merge_province", "--from", "khongco", "--into", "tinhcu")
    merge_province("tinhcu", "tinhmoi")  # empty provinces merge too
    with pytest.raises(CommandError, match="đã được sáp nhập vào"):
        call_command("merge_province", "--from", "tinhcu", "--into", "tinhhai")
    with pytest.raises(CommandError, match="hãy sáp nhập vào tỉnh đang hoạt động"):
        call_command("merge_province", "--from", "tinhhai", "--into", "tinhcu")
    assert Province.objects.get(pk=c.pk).merged_into is None
    assert b.merged_into is None
    a.refresh_from_db()
    assert a.merged_into == b


def test_seed_demo_leaves_a_merged_province_alone(settings, monkeypatch, capsys):
    """`make run` seeds again after a merge: the merged province (its domain now the target's) is skipped."""
    from provinces.management.commands import seed_demo

    settings.DEBUG = True
    create_province(SOURCE)
    create_province(TARGET)
    merge_province("tinhcu", "tinhmoi")
    monkeypatch.setattr(seed_demo, "DEMO_PROVINCES", (SOURCE, TARGET))
    monkeypatch.setattr(seed_demo, "SEEDERS", ("offices.demo.seed",))
    call_command("seed_demo")
    assert "Tỉnh Cũ Thử: đã sáp nhập vào Thành phố Mới Thử, bỏ qua" in capsys.readouterr().out
