"""No English on an officer's or a citizen's path when the portal speaks Vietnamese (issue 11.4).

Every admin page of both sites (each registered ModelAdmin's changelist, add and change views,
the custom pages they link to: dossier actions and prints, accounts, broadcasts…, the indexes,
password change) and every public page (province home, lookup, status page, warnings, the national
landing page, error pages) is rendered in `vi` and read as a person reads it: visible text plus
the words a browser shows from attributes (buttons, placeholders, tooltips, labels for screen
readers). Pages are found by following the links of the pages already read, from the sites'
registries, so a page added tomorrow is read too. Any word of ENGLISH is reported with its page.
"""

import os
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django_tenants.utils import get_public_schema_name, schema_context

from conftest import otp_login
from egov.admin_sites import national_admin_site

pytestmark = pytest.mark.django_db

PROVINCE = "danang.localhost"
NATIONAL = "localhost"

# Words that are not Vietnamese (nor a name, a unit or an accepted loanword such as Zalo, OA, QR,
# email, OTP). Case-sensitive: "Show" and "show" are both listed where both occur in Django.
ENGLISH = """
Add Change Delete Save Search Filter History View Home Action Actions Go Yes No Unknown All Any Today Now
Password Accepted Received Show Hide Skip Welcome Log Logout Schema Primary Toggle Select Choose Clear
Remove Cancel Close Submit Confirm Enter Please Error Errors Note Warning Required Optional Date Time
Name Username User Users Group Groups Permission Permissions Staff Superuser Active Status Page Next
Previous First Last Recent None Empty Yesterday Tomorrow Midnight Noon Calendar Available Chosen Sort
Documentation Administration Django Site Lookup Dossier Dossiers Procedure Department Officer Province
Domain Tenant Broadcast Follower Message Messages Notification Settings Device Devices Created Updated
Modified Accept Refuse Print Return Download Export Upload Reason Result Results Total Count Type Kind
Question Answer Event Events Audit Request Approve Reject Pending Sent Failed Delivered Draft Submitted
Approved Rejected Cancelled Done Closed Early Late Overdue Forbidden Found Server Unknown Content At Outcome
models Auth Token Tokens Tracking Claimed component counter entry attempt recipient True False
counts content name primary selected site schema password username address user users group
groups permissions staff status date time required optional field fields the and of for with your
you are must not from object objects entries results total match ascending descending sorting theme
navigation items characters characters. change delete view add save search filter history action
""".split()
ENGLISH_RE = re.compile(
    r"(?<!\w)(" + "|".join(sorted(map(re.escape, set(ENGLISH)), key=len, reverse=True)) + r")(?!\w)"
)

DUMP = os.environ.get("NO_ENGLISH_DUMP")

# Attributes whose words a browser shows or reads aloud.
SHOWN_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label", "aria-description", "label"}
BUTTON_TYPES = {"submit", "button", "reset"}


class Reader(HTMLParser):
    """The words of a page as a person meets them, and the links on it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.words, self.links, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style", "template"):
            self._skip += 1
        for name in SHOWN_ATTRIBUTES & attrs.keys():
            self.words.append(attrs[name] or "")
        if tag == "input" and (attrs.get("type") or "").lower() in BUTTON_TYPES:
            self.words.append(attrs.get("value") or "")
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style", "template"):
            self._skip -= 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.words.append(data)


def read(html):
    reader = Reader()
    reader.feed(html)
    reader.close()
    return " ".join(reader.words), reader.links


def english_in(text):
    """[(word, phrase)]: each English word and the run of unaccented text around it (the phrase to fix).

    Placeholders such as {date} in a message template's help are names an officer types, not words.
    """
    found = []
    text = PLACEHOLDER.sub(" ", text)
    for match in ENGLISH_RE.finditer(text):
        start, end = match.start(), match.end()
        while start > 0 and PHRASE_CHAR.match(text[start - 1]):
            start -= 1
        while end < len(text) and PHRASE_CHAR.match(text[end]):
            end += 1
        phrase = " ".join(text[start:end].split())
        phrase = re.sub(r"^\w{1,2}\b\s*|\s*\b\w{1,2}$", "", phrase)[:120]
        if len(phrase) < 12:  # a lone word: show where it stands
            phrase = " ".join(text[max(0, match.start() - 30) : match.end() + 30].split())
        found.append((match.group(1), phrase))
    return found


PLACEHOLDER = re.compile(r"\{\w+\}")
PHRASE_CHAR = re.compile(r"[A-Za-z0-9 _\-:'(),.?!/%|&;]")


def shape(path):
    """A page's kind: numbers and tokens in the path replaced, so that 40 dossiers are not 40 kinds."""
    return re.sub(r"/[^/]*\d[^/]*(?=/)", "/#", path)


PAGE_PARAMETERS = {"worklist"}  # query parameters that make a page of its own


class Walk:
    """Reads pages on one host with one client, following links under `prefixes`.

    Each kind of page (see `shape`) is read at most `per_kind` times.
    """

    def __init__(self, client, host, prefixes, per_kind=2, skip=(), limits=None):
        self.client, self.host, self.prefixes, self.per_kind = client, host, prefixes, per_kind
        self.limits = limits or {}
        self.skip = ("/logout/", "/ket-noi/", *skip)
        self.seen, self.kinds = set(), defaultdict(int)
        self.found = defaultdict(list)  # page → [(word, context)]
        self.pages, self.statuses = [], {}

    def wanted(self, url):
        parts = urlsplit(url)
        if parts.scheme not in ("", "http") or parts.netloc not in ("", self.host):
            return None
        path = parts.path
        if not path.startswith(self.prefixes) or any(s in path for s in self.skip):
            return None
        # A changelist's sorting, paging and filtering links show the same words: the plain page is
        # read, and each worklist (a page of its own, with its own heading and counts).
        kept = [(k, v) for k, v in parse_qsl(parts.query) if k in PAGE_PARAMETERS]
        return f"{path}?{urlencode(kept)}" if kept else path

    def visit(self, url, follow=True, method="get", data=None, expect=(200,)):
        path = self.wanted(urldefrag(url)[0]) if method == "get" else url
        if path is None or (method == "get" and path in self.seen):
            return None
        if method == "get":
            self.seen.add(path)
            kind = shape(path)
            if self.kinds[kind] >= self.limits.get(kind, self.per_kind):
                return None
            self.kinds[kind] += 1
        response = getattr(self.client, method)(path, data or {}, HTTP_HOST=self.host, HTTP_ACCEPT_LANGUAGE="vi")
        self.statuses[path] = response.status_code
        if response.status_code in (301, 302):
            if follow:
                self.visit(urljoin(path, response["Location"]))
            return response
        assert response.status_code in expect or response.status_code in (403, 404), (path, response.status_code)
        if "text/html" not in response.get("Content-Type", ""):
            return response
        text, links = read(response.content.decode())
        self.pages.append(path)
        if DUMP:  # NO_ENGLISH_DUMP=<dir>: each page's text as read, to see a word in its place
            Path(DUMP).mkdir(parents=True, exist_ok=True)
            (Path(DUMP) / (re.sub(r"\W+", "_", f"{id(self) % 9973}{self.host}{path}") + ".txt")).write_text(text)
        for word, context in english_in(text):
            self.found[f"{self.host}{path}"].append((word, context))
        if follow:
            for link in links:
                self.visit(urljoin(path, link))  # "?worklist=mine" is relative to this page
        return response

    def report(self):
        return report(self)


def report(*walks):
    """One line per English phrase: the words, how many pages show it, and a few of them."""
    pages = defaultdict(set)
    for walk in walks:
        for page, found in walk.found.items():
            for word, phrase in found:
                pages[(phrase, word)].add(page)
    by_phrase = defaultdict(lambda: [set(), set()])
    for (phrase, word), where in pages.items():
        by_phrase[phrase][0].add(word)
        by_phrase[phrase][1] |= where
    return "\n".join(
        f"{phrase!r} {sorted(words)} on {len(where)} page(s), e.g. {', '.join(sorted(where)[:3])}"
        for phrase, (words, where) in sorted(by_phrase.items(), key=lambda item: -len(item[1][1]))
    )


def admin_urls(site, urlconf=None):
    """Every registered ModelAdmin's changelist and add page, the app indexes, password change."""
    urls = [reverse(f"{site.name}:index", urlconf=urlconf), reverse(f"{site.name}:password_change", urlconf=urlconf)]
    urls.append(reverse(f"{site.name}:password_change_done", urlconf=urlconf))
    for model in site._registry:
        opts = model._meta
        urls.append(reverse(f"{site.name}:app_list", args=[opts.app_label], urlconf=urlconf))
        for view in ("changelist", "add"):
            try:
                urls.append(reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_{view}", urlconf=urlconf))
            except NoReverseMatch:
                pass
    return urls


def change_urls(site, request_user, urlconf=None):
    """Each registered model's change page for up to two rows the admin lists."""
    urls = []
    for model, model_admin in site._registry.items():
        opts = model._meta
        for pk in model_admin.model._default_manager.order_by("-pk").values_list("pk", flat=True)[:2]:
            urls.append(reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_change", args=[pk], urlconf=urlconf))
    return urls


# --- what there is to see ----------------------------------------------------------------------


@pytest.fixture
def province_data(in_danang, danang):
    """Đà Nẵng as `seed_demo` leaves it (officers, catalogue, dossiers in every status), and a row
    in each other table an admin page lists."""
    from dossiers import demo as dossier_demo
    from offices import demo as office_demo

    office_demo.seed(danang)
    dossier_demo.seed(danang)
    _extra_rows()
    return danang


def _extra_rows():
    """A row in the tables the demo leaves empty, so that their change pages are read too."""
    from datetime import timedelta

    from django.utils import timezone

    from dossiers.models import Dossier, WorkingDayOverride
    from zalo.models import CitizenQuestion, DossierLink, Follower, InboundEvent, ZaloAccount

    ZaloAccount.objects.get_or_create(
        oa_id="oa-1", defaults={"app_id": "app-1", "app_secret": "s1", "oa_secret_key": "k1", "name": "OA"}
    )
    follower, _ = Follower.objects.get_or_create(user_id="zl-1001", defaults={"display_name": "Hoa"})
    dossier = Dossier.objects.order_by("pk").first()
    _create_quietly(DossierLink, dossier=dossier, follower=follower)
    _create_quietly(CitizenQuestion, follower=follower, text="Hồ sơ của tôi đến đâu rồi?", received_at=timezone.now())
    _create_quietly(InboundEvent, dedupe_key="follow-1", event_name="follow", payload={"user_id": "zl-1001"})
    _create_quietly(WorkingDayOverride, day=timezone.localdate() + timedelta(days=30), is_working_day=False)


def _create_quietly(model, **values):
    """A row with these values if the model takes them; the test reports which tables stayed empty."""
    try:
        fields = {f.name for f in model._meta.get_fields()}
        with transaction.atomic():
            model.objects.create(**{k: v for k, v in values.items() if k in fields})
    except Exception as exc:  # noqa: BLE001 - another helper may change these models; an empty table is reported
        print(f"no row in {model._meta.label}: {exc}")


def province_user(username, superuser=False, role=None):
    from offices.tests.factories import OfficerFactory, UserFactory

    if superuser:
        return UserFactory(username=username, is_superuser=True)
    return OfficerFactory(role=role, user__username=username).user


# --- the walks ---------------------------------------------------------------------------------


def dossier_pages():
    """A dossier in each status: each offers other actions and printed forms."""
    from dossiers.models import Dossier

    dossiers = Dossier.objects.order_by("status", "pk").distinct("status").values_list("pk", flat=True)
    return [reverse("admin:dossiers_dossier_change", args=[pk]) for pk in dossiers]


def walk_admin(client, site, host, urlconf=None, per_kind=2, skip=()):
    walk = Walk(client, host, ("/admin/",), per_kind=per_kind, skip=skip)
    extra = []
    if site is admin.site:
        extra = dossier_pages()
        walk.limits[shape(extra[0])] = len(extra) + per_kind
    for url in admin_urls(site, urlconf) + extra + change_urls(site, None, urlconf):
        walk.visit(url)
    return walk


def test_every_province_admin_page_is_vietnamese(province_data):
    """The province's superuser (who sees every page) and each role (who see their own actions)."""
    superuser = province_user("sieuquantri", superuser=True)
    client = Client()
    otp_login(client, superuser)
    walks = [walk_admin(client, admin.site, PROVINCE)]
    # The login pages an officer meets first, anonymous.
    anonymous = Walk(Client(), PROVINCE, ("/admin/",))
    anonymous.visit("/admin/login/", follow=False)
    walks.append(anonymous)
    for username in ("motcua", "chuyenvien", "lanhdao"):
        officer = User.objects.get(username=username)
        client = Client()
        otp_login(client, officer, password=settings.DEMO_PASSWORD)
        walks.append(walk_admin(client, admin.site, PROVINCE, per_kind=1))
    pages = sum(len(w.pages) for w in walks)
    assert pages > 60, pages
    # The dossier's own pages were reached: actions and printed forms.
    read = {p for w in walks for p in w.pages}
    assert any("/dossiers/dossier/" in p and p.endswith("/change/") for p in read)
    assert any(re.search(r"/dossiers/dossier/\d+/.+/", p) and not p.endswith("/change/") for p in read), sorted(read)
    # The province dashboard (reached from the index's "Báo cáo, thống kê") and a list behind one of its numbers.
    assert any(p.startswith("/admin/reports/dashboard/") for p in read), sorted(read)
    # The periodic report (reached from the same section), with this month's table.
    assert "/admin/bao-cao/dinh-ky/" in read, sorted(read)
    found = report(*walks)
    assert not found, f"English on {sum(len(w.found) for w in walks)} province admin pages:\n{found}"


def test_every_national_admin_page_is_vietnamese(provinces):
    with schema_context(get_public_schema_name()):
        national = User.objects.create_superuser("quocgia.test", "qg@example.com", "Mat-khau-quoc-gia-1")
        client = Client()
        otp_login(client, national, "Mat-khau-quoc-gia-1", host=NATIONAL)
        # Not the delete pages: deleting a national user collects rows of province-only tables
        # (authtoken_token) that the public schema does not have, and fails (reported to the lead).
        walk = walk_admin(client, national_admin_site, NATIONAL, urlconf="egov.urls_public", skip=("/delete/",))
        anonymous = Walk(Client(), NATIONAL, ("/admin/",))
        anonymous.visit("/admin/login/", follow=False)
    assert len(walk.pages) > 10, walk.pages
    assert "/admin/bao-cao/cac-tinh/" in walk.pages, walk.pages  # the national view, linked from the index
    found = report(walk, anonymous)
    assert not found, f"English on national admin pages:\n{found}"


def test_every_public_page_is_vietnamese(province_data, settings):
    from dossiers.models import Dossier

    settings.DEBUG = False  # the error pages a citizen meets, not Django's debugging pages
    walk = Walk(Client(), PROVINCE, ("/",), skip=("/admin/", "/api/", "/zalo/webhook/"))
    walk.visit("/")
    walk.visit("/tra-cuu/")
    walk.visit("/canh-bao/")
    for dossier in Dossier.objects.order_by("status", "pk").distinct("status"):
        walk.visit(f"/tra-cuu/{dossier.lookup_token}/")
        walk.visit("/tra-cuu/", method="post", data={"code": dossier.code, "verifier": dossier.applicant_phone})
    walk.visit(
        "/tra-cuu/", method="post", data={"code": "000.00.01.H15-000000-0000", "verifier": "0905"}, expect=(400, 404)
    )
    walk.visit("/tra-cuu/khong-co-ma-nay-0123456789/", expect=(404,))
    walk.visit("/khong-co-trang-nay/", expect=(404,))
    national = Walk(Client(), NATIONAL, ("/",), skip=("/admin/",))
    national.visit("/")
    national.visit("/khong-co-trang-nay/", expect=(404,))
    assert len(walk.pages) >= 8, walk.pages
    found = report(walk, national)
    assert not found, f"English on public pages:\n{found}"


def test_the_word_list_catches_what_django_shows_in_english():
    """The reader and the list are not blind: Django's own English admin words are caught."""
    with translation.override("en"):
        text, _links = read(
            '<a class="skip-to-content-link" href="#c">Skip to main content</a><input type="submit" value="Save">'
            '<label>Schema name:</label><th>IS PRIMARY</th><a href="?_facets=True">Show counts</a>'
        )
    words = {w for w, _ in english_in(text)}
    assert {"Skip", "content", "Save", "Schema", "name", "Show", "counts"} <= words
    assert english_in("Được tiếp nhận — Đã trả kết quả. Mã hồ sơ 000.00.01.H15, Zalo OA, email, mã QR") == []
