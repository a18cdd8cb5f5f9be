"""Officers' admin benchmark (not a test): do the worklists stay flat when a province grows?

Seeds two provinces of the benchmark database (BENCH_DATABASE_URL, Redis BENCH_REDIS_URL) with a
realistic history (bench/seeding.py, SQL, idempotent and growable): Đồng Tháp with --small
dossiers (default 1,000) and Đà Nẵng with --dossiers (default 1,000,000; a few minutes the first
time). Then, in this process with production-like settings (DEBUG off), the Django test client
logs in as each demo role of both provinces (counter officer "motcua", specialist "chuyenvien",
leader "lanhdao", province admin "quantri"; the second factor marked on the session as the login
form does) and times --repeat requests (after --warmup) of each page:

- each worklist of the role, page 1 and page 50 (when the list has 50 pages at the large size;
  it is then compared with page 1 of the small province, which has no page 50);
- as the counter officer: the plain dossier changelist ("Tất cả hồ sơ"), filtered by a status,
  the admin search by a name and by a code, and the API list /api/v1/dossiers/?limit=50, page 1
  and the page reached by following `next` 50 times (whatever the pagination, offset or cursor).

It prints p50 and p95 per page for both sizes, the ratio of the p50s (large / small), whether
the targets hold (every page at the large size ≤ 1.5 × the same page at the small size, and
p50 ≤ 150 ms at the large size), and the rows each page shows at both sizes: a worklist of a few
dossiers in the small province shows 50 a page in the large one, and rendering them is part of
its ratio.

That ratio (the issue's) is printed as it is. Beside it, like for like: the same page in a third
province, Bình Dương, of as many dossiers as the small one (--small) reshaped so that every
worklist of the four roles holds a full page and more (bench/seeding.py fill_worklists): the
large page's p50 over that one's, with its rows, and whether it holds the same targets. Both
verdicts are counted; neither replaces the other.

The machine is shared: each page's requests go round the provinces in turn (small, large, full),
so that a load from elsewhere falls on all alike; compare figures of the same run.

    .venv/bin/python bench/admin/run.py [--dossiers 1000000] [--small 1000] [--repeat 30] [--warmup 3]
        [--skip-prepare]   (BENCH_DATABASE_URL, BENCH_REDIS_URL: the database and Redis DB to use)
"""

import argparse
import os
import statistics
import sys
import time
from urllib.parse import urlencode, urlsplit

import psycopg

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import DB, ROOT, base_env, percentile, prepare_database, setup_django, sh, vacuum

sys.path.insert(0, str(ROOT))
from bench.seeding import TOKEN_PREFIX, fill_worklists, seed_dossiers

SMALL, LARGE, FULL = "dongthap", "danang", "binhduong"
ROLES = (("reception", "motcua"), ("specialist", "chuyenvien"), ("leader", "lanhdao"), ("admin", "quantri"))
CHANGELIST = "/admin/dossiers/dossier/"
API_LIST = "/api/v1/dossiers/?limit=50"
RATIO_TARGET = 1.5
P50_TARGET_MS = 150
DEEP_PAGE = 50
PER_PAGE = 50  # DossierAdmin.list_per_page


def pick_search_terms(schema):
    """A name and a code of the seeded history of `schema` (the same ones at every size)."""
    with psycopg.connect(DB) as conn:
        conn.execute(f'SET search_path TO "{schema}", public')
        code, name = conn.execute(
            "SELECT code, applicant_name FROM dossiers_dossier WHERE lookup_token = %s",
            [TOKEN_PREFIX + conn.execute("SELECT md5('777')").fetchone()[0]],
        ).fetchone()
    return name, code


class Province:
    def __init__(self, schema):
        from provinces.models import Province as Tenant

        self.tenant = Tenant.objects.get(schema_name=schema)
        self.host = self.tenant.get_primary_domain().domain
        self.clients = {}
        self.users = {}
        for role, username in ROLES:
            self.clients[role], self.users[role] = self._login(username), username

    def _login(self, username):
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice
        from django_tenants.utils import tenant_context

        with tenant_context(self.tenant):
            user = get_user_model().objects.get(username=username)
            client = Client(HTTP_HOST=self.host)
            client.force_login(user)
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is not None:  # as the login form does after a valid code (django_otp.login)
                session = client.session
                session[DEVICE_ID_SESSION_KEY] = device.persistent_id
                session.save()
        return client

    def worklists(self, role):
        """{key: rows} of each worklist of `role`, the main one first."""
        from django.contrib.auth import get_user_model
        from django_tenants.utils import tenant_context

        from dossiers import selectors

        with tenant_context(self.tenant):
            user = get_user_model().objects.get(username=self.users[role])
            visible = selectors.visible_dossiers(user)
            return {
                key: visible.filter(selectors.worklist_filter(key, user)).count()
                for key in selectors.worklists_for(user)
            }

    def rows(self, role):
        from django.contrib.auth import get_user_model
        from django_tenants.utils import tenant_context

        from dossiers import selectors

        with tenant_context(self.tenant):
            return selectors.visible_dossiers(get_user_model().objects.get(username=self.users[role])).count()

    def get(self, role, url):
        return self.clients[role].get(url, HTTP_HOST=self.host)

    def follow_next(self, role, url, times):
        """The URL reached from `url` by following the API's `next` link `times` times (None if it ends)."""
        for _ in range(times):
            response = self.get(role, url)
            assert response.status_code == 200, (url, response.status_code)
            link = response.json().get("next")
            if not link:
                return None
            parts = urlsplit(link)
            url = parts.path + (f"?{parts.query}" if parts.query else "")
        return url

    def warm(self, role, url, warmup):
        """`warmup` untimed requests; the rows the page shows (rendering them is part of its cost)."""
        for _ in range(warmup):
            response = self.get(role, url)
            assert response.status_code == 200, (self.host, role, url, response.status_code)
        if url.startswith("/api/"):
            return len(response.json()["results"])
        return response.content.count(b'class="field-code"')

    def lap(self, role, url):
        start = time.perf_counter()
        response = self.get(role, url)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (self.host, role, url, response.status_code)
        return elapsed


def measure(role, urls, repeat, warmup):
    """{province: (p50, p95, rows)} of each (province, url) in `urls`, their requests taking turns."""
    rows = {province: province.warm(role, url, max(warmup, 1)) for province, url in urls}
    laps = {province: [] for province, _url in urls}
    for _ in range(repeat):
        for province, url in urls:
            laps[province].append(province.lap(role, url))
    return {p: (statistics.median(laps[p]), percentile(laps[p], 0.95), rows[p]) for p in laps}


def pages(large, name, codes):
    """(role, label, small url, large url, full url): the same page in the three provinces."""
    rows = []
    for role, _username in ROLES:
        for key, count in large.worklists(role).items():
            first = f"{CHANGELIST}?worklist={key}"
            rows.append((role, f"worklist {key} p1", first, first, first))
            deep = f"{first}&p={DEEP_PAGE}"
            if count > (DEEP_PAGE - 1) * PER_PAGE:
                rows.append((role, f"worklist {key} p{DEEP_PAGE} (1k: p1)", first, deep, first))
    everything = f"{CHANGELIST}?worklist=all"
    rows.append(("reception", "changelist (all) p1", everything, everything, everything))
    if large.rows("reception") > (DEEP_PAGE - 1) * PER_PAGE:
        deep = f"{everything}&p={DEEP_PAGE}"
        rows.append(("reception", f"changelist (all) p{DEEP_PAGE} (1k: p1)", everything, deep, everything))
    by_status = f"{everything}&status__exact=4"
    rows.append(("reception", "filtered: status=in progress", by_status, by_status, by_status))
    by_name = f"{everything}&{urlencode({'q': name})}"
    rows.append(("reception", "search: a name", by_name, by_name, by_name))
    by_code = [f"{everything}&{urlencode({'q': code})}" for code in codes]
    rows.append(("reception", "search: a code", *by_code))
    rows.append(("reception", "API list p1", API_LIST, API_LIST, API_LIST))
    rows.append(("reception", f"API list: next x{DEEP_PAGE}", "next", "next", "next"))
    return rows


def verdict(small, large):
    ratio = large / small
    return ratio, ratio <= RATIO_TARGET and large <= P50_TARGET_MS


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000, help="dossiers of the large province")
    parser.add_argument("--small", type=int, default=1_000, help="dossiers of the small (and the full) province")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page first")
    parser.add_argument(
        "--skip-prepare", action="store_true", help="the database is already migrated and seeded (reruns)"
    )
    args = parser.parse_args()

    env = base_env()
    if not args.skip_prepare:
        print(f"bench/admin: preparing {DB.rsplit('/', 1)[1]} …", flush=True)
        prepare_database(env)
        sh(sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", env=env)  # DEBUG off: the manifest
    echo = lambda m: print(m, flush=True)  # noqa: E731
    sizes = {
        SMALL: seed_dossiers(DB, SMALL, args.small, echo=echo),
        LARGE: seed_dossiers(DB, LARGE, args.dossiers, echo=echo),
        FULL: seed_dossiers(DB, FULL, args.small, echo=echo),
    }
    fill_worklists(DB, FULL)
    vacuum("dossiers_dossier", SMALL, LARGE, FULL)
    name, _code = pick_search_terms(LARGE)
    codes = (pick_search_terms(SMALL)[1], _code, pick_search_terms(FULL)[1])

    setup_django(env)
    small, large, full = Province(SMALL), Province(LARGE), Province(FULL)
    for province in (small, large, full):  # the deep API page: its URL as reached by following `next`
        province.deep_api = province.follow_next("reception", API_LIST, DEEP_PAGE)
    full_counts = {role: full.worklists(role) for role, _username in ROLES}

    print(
        f"\nbench/admin: {sizes[SMALL]:,} dossiers ({SMALL}) vs {sizes[LARGE]:,} ({LARGE}); like for like: "
        f"{sizes[FULL]:,} ({FULL}) whose every worklist holds a page or more "
        f"({min(c for counts in full_counts.values() for c in counts.values())} at least). "
        f"{args.repeat} requests per page after {args.warmup} warm-up, the provinces in turn, in-process test "
        "client, DEBUG off; ms",
        flush=True,
    )
    header = f"{'role':<11} {'page':<40} {'1k p50':>7} {'p95':>6} {'1M p50':>7} {'p95':>6} {'ratio':>6}"
    header += f"  {'target':<6} rows 1k/1M | {'full p50':>8} {'ratio':>6}  {'target':<6} rows full/1M"
    print(header)
    print("-" * len(header))
    misses = like_misses = over_ratio = like_over_ratio = slow = 0
    for role, label, small_url, large_url, full_url in pages(large, name, codes):
        if small_url == "next":
            small_url, large_url, full_url = small.deep_api, large.deep_api, full.deep_api
            if small_url is None:  # the small province has no 51st page: compare with its first
                small_url, label = API_LIST, f"{label} (1k: p1)"
            full_url = full_url or API_LIST
            if large_url is None:
                continue
        timed = measure(role, [(small, small_url), (large, large_url), (full, full_url)], args.repeat, args.warmup)
        (s50, s95, srows), (l50, l95, lrows), (f50, _f95, frows) = timed[small], timed[large], timed[full]
        ratio, ok = verdict(s50, l50)
        like_ratio, like_ok = verdict(f50, l50)
        misses += not ok
        like_misses += not like_ok
        over_ratio += ratio > RATIO_TARGET
        like_over_ratio += like_ratio > RATIO_TARGET
        slow += l50 > P50_TARGET_MS
        print(
            f"{role:<11} {label:<40} {s50:7.1f} {s95:6.1f} {l50:7.1f} {l95:6.1f} {ratio:6.2f}  "
            f"{'ok' if ok else 'MISS':<6} {srows:>4} / {lrows:<4} | {f50:8.1f} {like_ratio:6.2f}  "
            f"{'ok' if like_ok else 'MISS':<6} {frows:>4} / {lrows:<4}",
            flush=True,
        )
    print(
        f"\ntargets: large p50 ≤ {RATIO_TARGET} × small p50 and ≤ {P50_TARGET_MS} ms. "
        f"The issue's ratio (1M over {SMALL}'s {sizes[SMALL]:,}): {misses} page(s) miss. "
        f"Like for like (1M over {FULL}'s full worklists): {like_misses} page(s) miss.\n"
        f"Of which over the ratio: {over_ratio} (issue's), {like_over_ratio} (like for like); over "
        f"{P50_TARGET_MS} ms at the large size: {slow} (absolute times rise with the machine's load).\n"
        f"Search terms: name “{name}”, code {codes[1]} ({SMALL}: {codes[0]}, {FULL}: {codes[2]})."
    )


if __name__ == "__main__":
    main()
