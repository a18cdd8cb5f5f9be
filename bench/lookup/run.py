"""Lookup benchmark (not a test): how close the citizen status page and API get to Django's ceiling.

Starts gunicorn with production-like settings (DEBUG off) against a separate database with one
province holding BENCH_DOSSIERS dossiers (default 100,000), then drives it with wrk from a second
process for a fixed time:
  (a) a minimal Django view returning a constant (same middleware, same province routing),
  (b) the QR status page /tra-cuu/<token>/,
  (c) the API lookup /api/v1/lookup/<token>/.
(b) and (c) spread requests over 1,000 tokens of real dossiers, so the first hits fill the cache.
Prints requests/s, p50/p99 latency and the ratios b/a and c/a.

    python bench/lookup/run.py [--seconds 20] [--connections 32] [--dossiers 100000]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import psycopg
import redis

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import DB, REDIS, ROOT, base_env, sh, wait_for_port
from common import prepare_database as prepare_base

PORT = 8765
HOST = "danang.localhost"


def lookup_env():
    # One client address drives the whole load: lift the per-address lookup limit.
    return base_env(BENCH_ENDPOINTS="1", LOOKUP_RATE_PER_ADDRESS="100000000/60")


def prepare_database(dossiers):
    env = lookup_env()
    prepare_base(env)
    with psycopg.connect(DB, autocommit=True) as conn:
        conn.execute("SET search_path TO danang, public")
        have = conn.execute("SELECT count(*) FROM dossiers_dossier").fetchone()[0]
        if have < dossiers:
            print(f"seeding {dossiers - have:,} dossiers …", flush=True)
            ids = conn.execute(
                "SELECT p.id, d.id, o.id FROM dossiers_procedure p, offices_department d, offices_officer o "
                "WHERE p.code = '1.004873' AND d.code = 'TTHCC' AND o.department_id = d.id LIMIT 1"
            ).fetchone()
            conn.execute(
                """
                INSERT INTO dossiers_dossier (code, procedure_id, channel, status, applicant_name,
                    applicant_id_number, applicant_phone, applicant_address, applicant_email, applicant_ward_code,
                    current_department_id, current_officer_id, received_by_id, registered_at, accepted_at,
                    appointment_date, original_appointment_date, due_date, fee_amount, result, grade,
                    lookup_token, version, search_text)
                SELECT '000.00.01.H15-200101-' || lpad(n::text, 6, '0'), %s, 1, 2, 'Nguyễn Văn Thử ' || n,
                    '048090' || lpad(n::text, 6, '0'), '0905' || lpad((n %% 1000000)::text, 6, '0'), 'Đà Nẵng', '',
                    '', %s, %s, %s, now(), now(), current_date + 3, current_date + 3, current_date + 3, 0, '', '',
                    'bench' || md5(n::text), 1, 'nguyen van thu ' || n
                FROM generate_series(%s, %s) AS n
                """,
                [ids[0], ids[1], ids[2], ids[2], have + 1, dossiers],
            )
            conn.execute(
                """
                INSERT INTO dossiers_dossierevent (dossier_id, action, from_status, to_status, actor_id,
                    to_department_id, to_officer_id, created_at, citizen_note, internal_note, step_due, step_grade,
                    appointment_date)
                SELECT d.id, 'receive', NULL, 2, d.received_by_id, d.current_department_id, d.current_officer_id,
                    d.accepted_at, '', '', d.due_date, '', d.appointment_date
                FROM dossiers_dossier d
                WHERE d.lookup_token LIKE 'bench%%' AND NOT EXISTS (
                    SELECT 1 FROM dossiers_dossierevent e WHERE e.dossier_id = d.id)
                """
            )
            conn.execute("ANALYZE")
        total = conn.execute("SELECT count(*) FROM dossiers_dossier").fetchone()[0]
        tokens = [
            r[0]
            for r in conn.execute(
                "SELECT lookup_token FROM dossiers_dossier WHERE lookup_token LIKE 'bench%%' "
                "ORDER BY random() LIMIT 1000"
            )
        ]
    return total, tokens


LUA = """
local tokens = {%s}
local prefix = "%s"
request = function()
  local t = tokens[math.random(#tokens)]
  return wrk.format("GET", prefix .. t .. "/", {["Host"] = "%s"})
end
"""


def wrk(path_or_prefix, seconds, connections, tokens=None):
    url = f"http://127.0.0.1:{PORT}"
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Host: {HOST}"]
    script = None
    if tokens:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(LUA % (",".join(json.dumps(t) for t in tokens), path_or_prefix, HOST))
        script.close()
        args += ["-s", script.name, url]
    else:
        args.append(url + path_or_prefix)
    out = subprocess.run(args, check=True, text=True, capture_output=True).stdout
    if script:
        os.unlink(script.name)
    return parse(out)


def to_ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def parse(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": p50, "p99": p99, "non_2xx": int(errors.group(1)) if errors else 0}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    total, tokens = prepare_database(args.dossiers)
    env = lookup_env()
    sh(sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", env=env)
    redis.Redis.from_url(REDIS).flushdb()  # the benchmark's own database (BENCH_REDIS_URL)
    server = subprocess.Popen(
        [
            "gunicorn",
            "egov.wsgi:application",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            str(args.workers),
            "-k",
            "gthread",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for_port(PORT)
        wrk("/bench/constant/", 3, args.connections)  # warm up every worker
        wrk("/tra-cuu/", 3, args.connections, tokens)  # and fill the caches, as a first wave of scans would
        wrk("/api/v1/lookup/", 3, args.connections, tokens)
        results = {
            "a constant view": wrk("/bench/constant/", args.seconds, args.connections),
            "b QR status page": wrk("/tra-cuu/", args.seconds, args.connections, tokens),
            "c API lookup": wrk("/api/v1/lookup/", args.seconds, args.connections, tokens),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"\nlookup benchmark: {total:,} dossiers in the province, {args.seconds}s per run, "
        f"{args.connections} connections, gunicorn {args.workers} workers × 4 threads, DEBUG off"
    )
    print(f"{'':<20}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
    for name, r in results.items():
        print(f"{name:<20}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['non_2xx']:>10}")
    a = results["a constant view"]["rps"]
    print(f"ratio b/a = {results['b QR status page']['rps'] / a:.2f}   (target ≥ 0.7)")
    print(f"ratio c/a = {results['c API lookup']['rps'] / a:.2f}   (target ≥ 0.7)")


if __name__ == "__main__":
    main()
