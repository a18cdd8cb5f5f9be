"""Dashboard figures benchmark (not a test): do the figures answer in ≤ 300 ms at a million dossiers?

Seeds Đà Nẵng of the benchmark database (BENCH_DATABASE_URL, Redis BENCH_REDIS_URL) with a realistic
history of --dossiers dossiers (bench/seeding.py, SQL, idempotent and growable), builds its
aggregates from scratch with `rebuild_figures --reset` (timed), then, in this process with
production-like settings (DEBUG off), times --repeat calls (after --warmup) of what a dashboard page
asks for each scope — `figures(scope)` and the breakdowns by week, department, procedure and point —
for: this month; the last 12 months; this month of one department; this month of one procedure.

Beside each, the baseline: the same figures counted over the raw rows (`figures_direct`, --direct-repeat
calls; its breakdowns, one count per department/procedure, would take minutes and are not timed), and
the ratio of the p50s. It checks that both give the same figures for every scope (printed; the seed's
few dates after now are first set to now, see clamp_future). Prints
p50 and p90 per call and for the whole page (the sum of a page's calls, call by call), in ms.

    .venv/bin/python bench/dashboard/run.py [--dossiers 1000000] [--repeat 30] [--warmup 3]
        [--direct-repeat 3] [--skip-prepare] [--skip-rebuild]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import DB, ROOT, base_env, percentile, prepare_database, setup_django, vacuum

sys.path.insert(0, str(ROOT))
from bench.seeding import seed_dossiers

PROVINCE = "danang"
TARGET_MS = 300
PAGE = ("figures", "week", "department", "procedure", "point")


def scopes():
    from django.db.models import Count
    from django.utils import timezone

    from dossiers.models import Dossier
    from reports.indicators import Scope

    today = timezone.localdate()
    month = Scope(today.replace(day=1), today)
    year = Scope((today.replace(day=1) - timedelta(days=335)).replace(day=1), today)
    # The busiest department and procedure: the largest slices.
    department = (Dossier.objects.values("procedure__department").annotate(n=Count("pk")).order_by("-n").first())[
        "procedure__department"
    ]
    procedure = Dossier.objects.values("procedure").annotate(n=Count("pk")).order_by("-n").first()["procedure"]
    return [
        ("this month", month),
        ("last 12 months", year),
        ("this month, one department", Scope(month.start, month.end, department=department)),
        ("this month, one procedure", Scope(month.start, month.end, procedure=procedure)),
    ]


def clamp_future(schema):
    """The seed dates a recent dossier's result, return or closing `processing days` after its receipt,
    which may be after now: a result is never ready in the future (the live counts would disagree with
    the history's), so such dates become now. Idempotent."""
    import psycopg

    with psycopg.connect(DB, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}", public')
        conn.execute(
            """
            UPDATE dossiers_dossier SET result_ready_at = least(result_ready_at, now()),
                returned_at = least(returned_at, now()), closed_at = least(closed_at, now())
            WHERE result_ready_at > now() OR returned_at > now() OR closed_at > now()
            """
        )


def timed(call, repeat, warmup):
    for _ in range(warmup):
        call()
    laps = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        laps.append((time.perf_counter() - start) * 1000)
    return laps


def p(laps):
    return statistics.median(laps), percentile(laps, 0.9)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30, help="timed calls of each kept figure")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--direct-repeat", type=int, default=3, help="timed calls of each direct count")
    parser.add_argument("--skip-prepare", action="store_true", help="the database is migrated and seeded")
    parser.add_argument("--skip-rebuild", action="store_true", help="the aggregates are already built")
    args = parser.parse_args()

    env = base_env()
    if not args.skip_prepare:
        print(f"bench/dashboard: preparing {DB.rsplit('/', 1)[1]} …", flush=True)
        prepare_database(env)
    size = seed_dossiers(DB, PROVINCE, args.dossiers, echo=lambda m: print(m, flush=True))
    clamp_future(PROVINCE)
    vacuum("dossiers_dossier", PROVINCE)
    if not args.skip_rebuild:
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "manage.py", "rebuild_figures", "--province", PROVINCE, "--reset"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        print(f"rebuild_figures --reset: {time.monotonic() - started:.0f} s for {size:,} dossiers", flush=True)
        vacuum("reports_figure", PROVINCE)
        vacuum("reports_contribution", PROVINCE)

    setup_django(env)
    from django.db import connection
    from django_tenants.utils import tenant_context

    from provinces.models import Province
    from reports import indicators

    with tenant_context(Province.objects.get(schema_name=PROVINCE)):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM reports_figure")
            figure_rows = cursor.fetchone()[0]
        print(
            f"\nbench/dashboard: {size:,} dossiers in {PROVINCE}, {figure_rows:,} figure rows; "
            f"kept: {args.repeat} calls after {args.warmup} warm-up, direct: {args.direct_repeat}; "
            f"in-process, DEBUG off; ms",
            flush=True,
        )
        header = f"{'scope':<28} {'call':<11} {'kept p50':>9} {'p90':>7} {'direct p50':>11} {'p90':>8} {'ratio':>7}"
        print(header)
        print("-" * len(header))
        misses = 0
        for label, scope in scopes():
            page = []
            for call in PAGE:
                if call == "figures":
                    laps = timed(lambda s=scope: indicators.figures(s), args.repeat, args.warmup)
                    direct = timed(lambda s=scope: indicators.figures_direct(s), args.direct_repeat, 0)
                    d50, d90 = p(direct)
                else:
                    laps = timed(lambda s=scope, b=call: indicators.breakdown(s, b), args.repeat, args.warmup)
                    d50 = d90 = None
                page.append(laps)
                k50, k90 = p(laps)
                direct_text = f"{d50:11.1f} {d90:8.1f} {d50 / k50:6.0f}x" if d50 else f"{'—':>11} {'':>8} {'':>7}"
                print(f"{label:<28} {call:<11} {k50:9.1f} {k90:7.1f} {direct_text}", flush=True)
            totals = [sum(laps[i] for laps in page) for i in range(args.repeat)]
            t50, t90 = p(totals)
            misses += t50 > TARGET_MS
            same = asdict(indicators.figures(scope)) == asdict(indicators.figures_direct(scope))
            print(
                f"{label:<28} {'whole page':<11} {t50:9.1f} {t90:7.1f}   "
                f"{'ok' if t50 <= TARGET_MS else 'MISS'} (≤ {TARGET_MS} ms); kept == direct: {same}",
                flush=True,
            )
        print(f"\ntarget: a dashboard page's figures p50 ≤ {TARGET_MS} ms at the large size: {misses} scope(s) miss.")


if __name__ == "__main__":
    main()
