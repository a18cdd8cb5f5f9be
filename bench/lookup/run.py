"""Lookup benchmark (not a test): how close the citizen status page and API get to Django's ceiling.

Starts gunicorn (from this virtualenv) with production-like settings (DEBUG off) against a separate
database (BENCH_DATABASE_URL, Redis BENCH_REDIS_URL) with one province holding BENCH_DOSSIERS
seeded dossiers (default 100,000; bench/seeding.py, growable), then drives it with wrk (installed
by scripts/ensure_wrk.sh) for a fixed time per case:
  (a) a minimal Django view returning a constant (same middleware, same province routing),
  (b) hot QR status page /tra-cuu/<token>/: 1,000 tokens, cache filled by a first wave of scans,
  (c) hot API lookup /api/v1/lookup/<token>/: the same,
  (d) cold QR status page: every request a different dossier of all the seeded ones, nothing cached
      (results day: each citizen scans their own receipt),
  (e) cold API lookup: the same.
In the cold cases each wrk thread walks its own share of a shuffled list of every token, so no
token is asked twice within a run (the output says if a run asked more requests than there are
dossiers); the benchmark's Redis database is emptied before each cold run.

wrk keeps every connection busy, so at full rate latency is mostly queueing (connections ÷ rate).
A second, paced run of each lookup case (each connection waits between requests, for a total of
--paced-fraction of the cold full rate) gives the latency at a rate the server keeps up with.

    .venv/bin/python bench/lookup/run.py [--seconds 20] [--connections 32] [--dossiers 100000]
"""

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import redis

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import DB, REDIS, ROOT, base_env, ensure_wrk, free_port, gunicorn_command, sh, wait_for_port
from common import prepare_database as prepare_base

sys.path.insert(0, str(ROOT))
from bench.seeding import TOKEN_PREFIX, seed_dossiers

PORT = free_port()
HOST = "danang.localhost"
SCHEMA = "danang"
HOT_TOKENS = 1000
THREADS = 2

# Each thread takes every THREADS-th token of the file from its own offset and walks it in order:
# no token twice in a run until the share is used up (then it starts over, and the count says so).
LUA = """
local path, prefix, threads = "%(path)s", "%(prefix)s", %(threads)d
local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
function init(args)
  tokens = {}
  local i = 0
  for line in io.lines(path) do
    if i %% threads == offset then tokens[#tokens + 1] = line end
    i = i + 1
  end
  n = 0
end
function request()
  n = n + 1
  local t = tokens[((n - 1) %% #tokens) + 1]
  return wrk.format("GET", prefix .. t .. "/", {["Host"] = "%(host)s"})
end
%(delay)s
"""


def lookup_env():
    # One client address drives the whole load: lift the per-address lookup limit.
    return base_env(BENCH_ENDPOINTS="1", LOOKUP_RATE_PER_ADDRESS="100000000/60")


def prepare_database(dossiers):
    env = lookup_env()
    prepare_base(env)
    total = seed_dossiers(DB, SCHEMA, dossiers)
    with psycopg.connect(DB, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{SCHEMA}", public')
        tokens = [
            r[0]
            for r in conn.execute(
                "SELECT lookup_token FROM dossiers_dossier WHERE lookup_token LIKE %s ORDER BY id LIMIT %s",
                [TOKEN_PREFIX + "%", dossiers],
            )
        ]
    return total, tokens


def wait_for_answer(url, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers={"Host": HOST}, timeout=10).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} does not answer 200")


def fill(tokens):
    """Ask each token's page and JSON once (8 at a time), so that the hot runs find them cached."""
    with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", headers={"Host": HOST}, timeout=60) as client:

        def ask(path):
            return client.get(path).status_code

        paths = [f"{prefix}{t}/" for t in tokens for prefix in ("/tra-cuu/", "/api/v1/lookup/")]
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(ask, paths))
    if any(code != 200 for code in codes):
        raise SystemExit(f"filling the cache: {sum(code != 200 for code in codes)} answers were not 200")


def wrk(path_or_prefix, seconds, connections, tokens=None, rate=None):
    """One wrk run; with `tokens`, requests walk them (see LUA); with `rate`, paced to about that many/s."""
    url = f"http://127.0.0.1:{PORT}"
    args = ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Host: {HOST}"]
    files = []
    if tokens:
        listing = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
        listing.write("\n".join(tokens) + "\n")
        listing.close()
        delay = ""
        if rate:
            delay = "function delay() return %.3f end" % (1000.0 * connections / rate)
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(
            LUA % {"path": listing.name, "prefix": path_or_prefix, "threads": THREADS, "host": HOST, "delay": delay}
        )
        script.close()
        files = [listing.name, script.name]
        args += ["-s", script.name, url]
    else:
        args.append(url + path_or_prefix)
    try:
        out = subprocess.run(args, check=True, text=True, capture_output=True).stdout
    finally:
        for name in files:
            os.unlink(name)
    return parse(out)


def to_ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def parse(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": rps,
        "requests": requests,
        "p50": p50,
        "p99": p99,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": sum(int(x) for x in failed.groups()) if failed else 0,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--dossiers", type=int, default=int(os.environ.get("BENCH_DOSSIERS", 100_000)))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--paced-fraction", type=float, default=0.5, help="paced runs at this share of cold rate")
    args = parser.parse_args()

    ensure_wrk()
    total, tokens = prepare_database(args.dossiers)
    hot = random.Random(12).sample(tokens, min(HOT_TOKENS, len(tokens)))
    cold = list(tokens)
    random.Random(7).shuffle(cold)
    env = lookup_env()
    sh(sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", env=env)
    store = redis.Redis.from_url(REDIS)  # the benchmark's own database (BENCH_REDIS_URL)
    store.flushdb()
    server = subprocess.Popen(
        [
            *gunicorn_command(),
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
            "--no-control-socket",  # several gunicorns on one machine would share its default path
        ],
        cwd=ROOT,
        env=env,
    )
    results = {}
    paced = {}
    try:
        wait_for_port(PORT)
        wait_for_answer(f"http://127.0.0.1:{PORT}/bench/constant/")  # the workers have loaded Django
        wrk("/bench/constant/", 5, args.connections)  # warm up every worker
        fill(hot)  # every hot token's page and JSON cached, as a first wave of scans would
        results["a constant view"] = wrk("/bench/constant/", args.seconds, args.connections)
        results["b hot QR page"] = wrk("/tra-cuu/", args.seconds, args.connections, hot)
        results["c hot API lookup"] = wrk("/api/v1/lookup/", args.seconds, args.connections, hot)
        store.flushdb()  # nothing cached: every request reads its dossier
        results["d cold QR page"] = wrk("/tra-cuu/", args.seconds, args.connections, cold)
        store.flushdb()
        results["e cold API lookup"] = wrk("/api/v1/lookup/", args.seconds, args.connections, cold)
        rate = args.paced_fraction * min(results["d cold QR page"]["rps"], results["e cold API lookup"]["rps"])
        paced["b hot QR page"] = wrk("/tra-cuu/", args.seconds, args.connections, hot, rate=rate)
        paced["c hot API lookup"] = wrk("/api/v1/lookup/", args.seconds, args.connections, hot, rate=rate)
        store.flushdb()
        # The paced cold runs walk the list from its other end: none of the full-rate runs' tokens.
        rest = cold[::-1]
        paced["d cold QR page"] = wrk("/tra-cuu/", args.seconds, args.connections, rest, rate=rate)
        store.flushdb()
        paced["e cold API lookup"] = wrk("/api/v1/lookup/", args.seconds, args.connections, rest, rate=rate)
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"\nlookup benchmark: {total:,} dossiers in the province ({len(cold):,} seeded tokens), {args.seconds}s "
        f"per run, {args.connections} connections, wrk {THREADS} threads, gunicorn {args.workers} workers × 4 "
        f"threads, DEBUG off; the machine's 2 cores are shared with wrk and other work (noisy)"
    )
    header = f"{'':<20}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}{'requests':>10}"
    print("full rate (every connection busy: latency is mostly queueing)")
    print(header)
    for name, r in results.items():
        print(
            f"{name:<20}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}"
            f"{r['non_2xx'] + r['socket_errors']:>10}{r['requests']:>10}"
        )
    for name in ("d cold QR page", "e cold API lookup"):
        if results[name]["requests"] > len(cold):
            print(f"  note: {name} asked more requests than there are dossiers: some were asked twice")
    print(f"paced (about {rate:.0f} req/s in total = {args.paced_fraction:.2f} × the slower cold rate)")
    print(header)
    for name, r in paced.items():
        print(
            f"{name:<20}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}"
            f"{r['non_2xx'] + r['socket_errors']:>10}{r['requests']:>10}"
        )
    a = results["a constant view"]["rps"]
    for name, target in (
        ("b hot QR page", 0.8),
        ("c hot API lookup", 0.8),
        ("d cold QR page", 0.3),
        ("e cold API lookup", 0.3),
    ):
        ratio = results[name]["rps"] / a
        print(f"ratio {name[0]}/a = {ratio:.2f}   (target ≥ {target}){'' if ratio >= target else '   MISSED'}")
    for name, r in paced.items():
        print(f"p99 {name[0]} paced = {r['p99']:.1f} ms   (target < 50 ms){'' if r['p99'] < 50 else '   MISSED'}")


if __name__ == "__main__":
    main()
