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
its ratio. The machine is shared: compare figures of the same run.

    .venv/bin/python bench/admin/run.py [--dossiers 1000000] [--small 1000] [--repeat 30] [--warmup 3]
"""

import argparse
import os
import statistics
import sys
import time
from urllib.parse import urlencode, urlsplit

import psycopg

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import DB, ROOT, base_env, prepare_database, sh

sys.path.insert(0, str(ROOT))
from bench.seeding import TOKEN_PREFIX, seed_dossiers

SMALL, LARGE = "dongthap", "danang"
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


def vacuum(*schemas):
    """VACUUM (ANALYZE) the dossiers as autovacuum does on a real table after a bulk load: the same
    state for every run (statistics and the visibility map index-only scans read)."""
    with psycopg.connect(DB, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f'VACUUM (ANALYZE) "{schema}".dossiers_dossier')


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


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

    def time(self, role, url, repeat, warmup):
        """(p50, p95) in ms of `url`, and the rows the page shows (the cost of rendering them is not
        the table's: a worklist of a few in the small province has 50 rows a page in the large one)."""
        for _ in range(warmup):
            response = self.get(role, url)
            assert response.status_code == 200, (self.host, role, url, response.status_code)
        if url.startswith("/api/"):
            rows = len(response.json()["results"])
        else:
            rows = response.content.count(b'class="field-code"')
        laps = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = self.get(role, url)
            laps.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (self.host, role, url, response.status_code)
        return statistics.median(laps), percentile(laps, 0.95), rows


def pages(small, large, name, code):
    """(role, label, small url, large url): the same page in both provinces."""
    rows = []
    for role, _username in ROLES:
        for key, count in large.worklists(role).items():
            first = f"{CHANGELIST}?worklist={key}"
            rows.append((role, f"worklist {key} p1", first, first))
            deep = f"{first}&p={DEEP_PAGE}"
            if count > (DEEP_PAGE - 1) * PER_PAGE:
                rows.append((role, f"worklist {key} p{DEEP_PAGE} (1k: p1)", first, deep))
    everything = f"{CHANGELIST}?worklist=all"
    rows.append(("reception", "changelist (all) p1", everything, everything))
    if large.rows("reception") > (DEEP_PAGE - 1) * PER_PAGE:
        rows.append(("reception", f"changelist (all) p{DEEP_PAGE} (1k: p1)", everything, f"{everything}&p={DEEP_PAGE}"))
    by_status = f"{everything}&status__exact=4"
    rows.append(("reception", "filtered: status=in progress", by_status, by_status))
    by_name = f"{everything}&{urlencode({'q': name})}"
    rows.append(("reception", "search: a name", by_name, by_name))
    rows.append(
        (
            "reception",
            "search: a code",
            f"{everything}&{urlencode({'q': code[0]})}",
            f"{everything}&{urlencode({'q': code[1]})}",
        )
    )
    rows.append(("reception", "API list p1", API_LIST, API_LIST))
    rows.append(("reception", f"API list: next x{DEEP_PAGE}", "next", "next"))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000, help="dossiers of the large province")
    parser.add_argument("--small", type=int, default=1_000, help="dossiers of the small province")
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
    sizes = {
        SMALL: seed_dossiers(DB, SMALL, args.small, echo=lambda m: print(m, flush=True)),
        LARGE: seed_dossiers(DB, LARGE, args.dossiers, echo=lambda m: print(m, flush=True)),
    }
    vacuum(SMALL, LARGE)
    name, _code = pick_search_terms(LARGE)
    codes = (pick_search_terms(SMALL)[1], _code)

    os.environ.update(env)
    import django

    django.setup()
    small, large = Province(SMALL), Province(LARGE)
    for province in (small, large):  # the deep API page: its URL as reached by following `next`
        province.deep_api = province.follow_next("reception", API_LIST, DEEP_PAGE)

    print(
        f"\nbench/admin: {sizes[SMALL]:,} dossiers ({SMALL}) vs {sizes[LARGE]:,} ({LARGE}); "
        f"{args.repeat} requests per page after {args.warmup} warm-up, in-process test client, DEBUG off; ms",
        flush=True,
    )
    header = f"{'role':<11} {'page':<40} {'small p50':>9} {'p95':>7} {'large p50':>9} {'p95':>7} {'ratio':>6}"
    header += "  target rows s/l"
    print(header)
    print("-" * len(header))
    misses = 0
    for role, label, small_url, large_url in pages(small, large, name, codes):
        if small_url == "next":
            small_url, large_url = small.deep_api, large.deep_api
            if small_url is None:  # the small province has no 51st page: compare with its first
                small_url, label = API_LIST, f"{label} (1k: p1)"
            if large_url is None:
                continue
        s50, s95, srows = small.time(role, small_url, args.repeat, args.warmup)
        l50, l95, lrows = large.time(role, large_url, args.repeat, args.warmup)
        ratio = l50 / s50
        ok = ratio <= RATIO_TARGET and l50 <= P50_TARGET_MS
        misses += not ok
        verdict = "ok" if ok else "MISS"
        print(
            f"{role:<11} {label:<40} {s50:9.1f} {s95:7.1f} {l50:9.1f} {l95:7.1f} {ratio:6.2f}  {verdict:<6}"
            f"{srows:>3} / {lrows:<3}",
            flush=True,
        )
    print(
        f"\ntargets: large p50 ≤ {RATIO_TARGET} × small p50 and ≤ {P50_TARGET_MS} ms; "
        f"{misses} page(s) miss. Search terms: name “{name}”, code {codes[1]} (small: {codes[0]})."
    )


if __name__ == "__main__":
    main()
