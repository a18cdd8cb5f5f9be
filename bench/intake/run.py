"""Intake benchmark (not a test): dossiers received through the API per second, outbox rows written.

Starts gunicorn with production-like settings (DEBUG off) against a separate database seeded with the
demo provinces (BENCH_DATABASE_URL, BENCH_REDIS_URL), gives the demo counter officer of Đà Nẵng
("motcua") an API token, then drives it from a second process (Python threads, one keep-alive
connection each) for a fixed time:
  (a) a minimal Django view returning a constant (same middleware, same province routing): the ceiling,
  (b) POST /api/v1/dossiers/: counter intakes of every demo procedure of the province, with all their
      components and a phone number (so each writes its receipt's outbox row), all at the same agency
      and day, i.e. the same daily counter.
Prints intakes/s, p50/p99 latency, errors, the server's CPU per request (gunicorn's processes, from
/proc: the figure that other load on the machine changes least) and the ratio b/a, then checks in SQL that every dossier
the run created has its outbox row (0 lost notifications), that the codes are unique, and how the
day's sequence looks (numbers skipped, see dossiers/services.next_dossier_code). While the intakes
run it samples pg_stat_activity: how many sessions wait on a lock (intakes queueing on the day's counter).

    .venv/bin/python bench/intake/run.py [--seconds 20] [--connections 16] [--workers 4]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.client import HTTPConnection

import psycopg
import redis

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import (
    DB,
    REDIS,
    ROOT,
    SERVERS,
    base_env,
    cpu_by_process,
    cpu_used,
    free_port,
    prepare_database,
    sh,
    wait_for_port,
)

PORT = int(os.environ.get("BENCH_PORT", "0")) or free_port()  # other benchmarks may run on the same machine
HOST = "danang.localhost"
SCHEMA = "danang"
OFFICER = "motcua"
TOKEN = "benchintake" + "0" * 29  # 40 characters, like DRF's keys; in the bench database only


def intake_env():
    return base_env(BENCH_ENDPOINTS="1")


# --- the load: a separate process -----------------------------------------------------------------


def client(args):
    """Run by a child process: drive one path for `seconds`, print one JSON line of results."""
    bodies = json.loads(args.bodies) if args.bodies else None
    stop_at = time.monotonic() + args.seconds
    latencies, statuses, lock = [], {}, threading.Lock()

    def worker(n):
        conn = HTTPConnection("127.0.0.1", args.port, timeout=60)
        headers = {"Host": HOST, "Authorization": f"Token {TOKEN}", "Content-Type": "application/json"}
        i = 0
        mine, codes = [], {}
        while time.monotonic() < stop_at:
            i += 1
            start = time.perf_counter()
            try:
                if bodies:
                    body = dict(bodies[(n + i) % len(bodies)])
                    body["applicant"] = {
                        **body["applicant"],
                        "name": f"{args.tag} {n}-{i}",
                        "phone": f"09{(n * 100000 + i) % 100000000:08d}",
                    }
                    conn.request("POST", args.path, json.dumps(body), headers)
                else:
                    conn.request("GET", args.path, headers={"Host": HOST})
                response = conn.getresponse()
                response.read()
                code = response.status
            except Exception as exc:  # noqa: BLE001 - counted as an error
                code = type(exc).__name__
                conn.close()
                conn = HTTPConnection("127.0.0.1", args.port, timeout=60)
            mine.append((time.perf_counter() - start) * 1000)
            codes[code] = codes.get(code, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[str(code)] = statuses.get(str(code), 0) + count

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "rps": len(latencies) / elapsed,
                "p50": statistics.median(latencies) if latencies else 0,
                "p99": latencies[int(len(latencies) * 0.99)] if latencies else 0,
                "statuses": statuses,
            }
        )
    )


def sample_lock_waits(stop, samples):
    """Every 50 ms while the intakes run: how many of the bench database's sessions wait on a lock
    (the day's counter row, if intakes queue behind one another)."""
    name = DB.rsplit("/", 1)[1]
    with psycopg.connect(DB, autocommit=True) as conn:
        while not stop.wait(0.05):
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) FILTER (WHERE state = 'active') "
                "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            ).fetchone()
            samples.append(row)


def drive(path, seconds, connections, bodies=None, tag=""):
    cmd = [sys.executable, __file__, "--client", "--path", path, "--seconds", str(seconds)]
    cmd += ["--connections", str(connections), "--port", str(PORT), "--tag", tag]
    if bodies:
        cmd += ["--bodies", json.dumps(bodies)]
    out = subprocess.run(cmd, check=True, text=True, capture_output=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# --- the bench database ---------------------------------------------------------------------------


def prepare():
    """The demo provinces, an API token for the counter officer, the intake bodies of every procedure."""
    prepare_database(intake_env())
    return prepare_bodies()


def prepare_bodies():
    """An API token for the counter officer (in a prepared database) and the intake bodies of every procedure."""
    with psycopg.connect(DB, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        user_id = conn.execute("SELECT id FROM auth_user WHERE username = %s", [OFFICER]).fetchone()[0]
        conn.execute("DELETE FROM authtoken_token WHERE user_id = %s OR key = %s", [user_id, TOKEN])
        conn.execute("INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, now(), %s)", [TOKEN, user_id])
        rows = conn.execute(
            "SELECT p.code, c.name, c.count FROM dossiers_procedure p "
            "JOIN dossiers_procedurecomponent c ON c.procedure_id = p.id "
            "WHERE p.is_active ORDER BY p.code, c.position"
        ).fetchall()
    procedures = {}
    for code, name, count in rows:
        procedures.setdefault(code, []).append({"name": name, "count": max(count, 1)})
    return [
        {
            "procedure": code,
            "channel": 1,
            "applicant": {
                "name": "",
                "id_number": "048090001234",
                "phone": "",
                "address": "12 Lê Duẩn, phường Hải Châu",
                "email": "",
            },
            "components": components,
            "citizen_note": "Hẹn trả theo giấy tiếp nhận.",
        }
        for code, components in procedures.items()
    ]


def check(tag):
    """SQL after the run: lost notifications, duplicate codes, the day's sequence."""
    with psycopg.connect(DB, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        created = conn.execute("SELECT count(*) FROM dossiers_dossier WHERE applicant_name LIKE %s", [tag + " %"])
        created = created.fetchone()[0]
        lost = conn.execute(
            "SELECT count(*) FROM dossiers_dossier d WHERE d.applicant_name LIKE %s AND NOT EXISTS ("
            "SELECT 1 FROM notifications_notification n JOIN dossiers_dossierevent e ON e.id = n.event_id "
            "WHERE n.dossier_id = d.id AND e.action = 'receive')",
            [tag + " %"],
        ).fetchone()[0]
        duplicates = conn.execute(
            "SELECT count(*) - count(DISTINCT code) FROM dossiers_dossier WHERE applicant_name LIKE %s", [tag + " %"]
        ).fetchone()[0]
        # The sequence of every day the run wrote to (the day's earlier dossiers included).
        days = conn.execute(
            """
            WITH run_days AS (
                SELECT DISTINCT regexp_replace(code, '-[0-9]+$', '') AS prefix
                FROM dossiers_dossier WHERE applicant_name LIKE %s
            )
            SELECT r.prefix, count(*), min(split_part(d.code, '-', 3)::int), max(split_part(d.code, '-', 3)::int),
                   (SELECT last FROM dossiers_dossiercounter c
                    WHERE c.agency_code || '-' || to_char(c.day, 'YYMMDD') = r.prefix)
            FROM run_days r JOIN dossiers_dossier d ON d.code LIKE r.prefix || '-%%'
            GROUP BY r.prefix ORDER BY r.prefix
            """,
            [tag + " %"],
        ).fetchall()
    return created, lost, duplicates, days


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--reuse", action="store_true", help="the database a previous run prepared, as it is")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=PORT, help=argparse.SUPPRESS)
    parser.add_argument("--bodies", help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        return client(args)

    bodies = prepare_bodies() if args.reuse else prepare()
    env = intake_env()
    sh(sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", env=env)
    redis.Redis.from_url(REDIS).flushdb()  # the benchmark's own database (BENCH_REDIS_URL)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "egov.wsgi:application",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            str(args.workers),
            "-k",
            "gthread",
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    tag = "Bench " + uuid.uuid4().hex[:8]
    try:
        wait_for_port(PORT)
        drive("/bench/constant/", 3, args.connections)  # warm up every worker
        drive("/api/v1/dossiers/", 3, args.connections, bodies, tag + "w")
        cpu_ms, servers_ms = {}, {}

        def measured(name, *drive_args):
            web, servers = cpu_by_process(server.pid), cpu_by_process(names=SERVERS)
            try:
                results[name] = drive(*drive_args)
            finally:
                cpu_ms[name] = cpu_used(web, cpu_by_process(server.pid)) * 1000
                servers_ms[name] = cpu_used(servers, cpu_by_process(names=SERVERS)) * 1000

        results = {}
        measured("a constant view", "/bench/constant/", args.seconds, args.connections)
        stop, samples = threading.Event(), []
        sampler = threading.Thread(target=sample_lock_waits, args=(stop, samples))
        sampler.start()
        try:
            measured("b API intake", "/api/v1/dossiers/", args.seconds, args.connections, bodies, tag)
        finally:
            stop.set()
            sampler.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    redis.Redis.from_url(REDIS).flushdb()  # the queued deliveries: no worker runs in the benchmark

    created, lost, duplicates, days = check(tag)
    print(
        f"\nintake benchmark: {len(bodies)} procedures, {args.seconds}s per run, {args.connections} connections, "
        f"gunicorn {args.workers} workers × {args.threads} threads, DEBUG off, "
        f"{os.cpu_count()} cores shared with the client"
    )
    # Server CPU: what gunicorn's processes used during the run, per request (the client's is apart).
    # "+ PG, Redis": with the database's and Redis's processes (other sessions' backends count too).
    print(f"{'':<20}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>10}{'CPU ms/req':>12}{'+ PG, Redis':>13}")
    for name, r in results.items():
        ok = {"200"} if name.startswith("a") else {"201"}
        errors = sum(count for status, count in r["statuses"].items() if status not in ok)
        per_request = cpu_ms[name] / max(r["requests"], 1)
        with_servers = (cpu_ms[name] + servers_ms[name]) / max(r["requests"], 1)
        print(
            f"{name:<20}{r['rps']:>10.1f}{r['p50']:>10.2f}{r['p99']:>10.2f}{errors:>10}"
            f"{per_request:>12.2f}{with_servers:>13.2f}"
        )
    intake = results["b API intake"]
    print(f"statuses of the intakes: {intake['statuses']}")
    print(f"ratio b/a = {intake['rps'] / results['a constant view']['rps']:.3f}")
    print(f"intakes/s = {intake['rps']:.1f}   (target ≥ 100)")
    if samples:
        waiting = sum(w for w, _active in samples) / len(samples)
        active = sum(a for _w, a in samples) / len(samples)
        print(
            f"database sessions during the intakes (mean of {len(samples)} samples): {active:.1f} running a statement, "
            f"{waiting:.1f} of them waiting on a lock; share of samples with a lock wait: "
            f"{sum(1 for w, _a in samples if w) / len(samples):.0%}"
        )
    print(f"dossiers created by the run: {created}   (201 responses: {intake['statuses'].get('201', 0)})")
    print(f"lost notifications (dossiers without their receipt's outbox row): {lost}   (target 0)")
    print(f"duplicate codes: {duplicates}")
    for prefix, count, low, high, last in days:
        print(
            f"day {prefix}: {count} dossiers, numbers {low}..{high}, counter at {last}, "
            f"numbers skipped: {high - low + 1 - count}"
        )


if __name__ == "__main__":
    main()
