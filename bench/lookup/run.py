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
In the cold cases each wrk thread walks its own share of a shuffled list of the tokens no run has
asked yet (the hot ones left out). Where the runs would reach the list's end (a fast machine), what
was cached of those dossiers is deleted from Redis and the list starts over, so no request of a
cold run finds a cached copy (the output says how often, and if a run still reached the end).
The cases run in interleaved rounds (a b c d e, a b c d e, …) and the medians are shown, so that a
load from elsewhere on the machine touches every case alike.

wrk keeps every connection busy, so at full rate latency is mostly queueing (connections ÷ rate).
A second, paced run of each lookup case (each connection waits between requests, for a total of
--paced-fraction of the cold full rate) gives the latency at a rate the server keeps up with.
Each row also shows the CPU a request cost: gunicorn's processes, then those with PostgreSQL's and
Redis's (from /proc; less moved by the machine's speed between runs than the rates are).

    .venv/bin/python bench/lookup/run.py [--seconds 10] [--rounds 3] [--connections 32] [--dossiers 100000]
"""

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
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
    ensure_wrk,
    free_port,
    gunicorn_command,
    sh,
    wait_for_port,
)
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


class ColdTokens:
    """The tokens no run has asked yet: each cold run takes the rest of the list, then marks what it used.

    A fast machine can ask more dossiers in a benchmark than were seeded. Before a run that could reach
    the list's end, what the earlier runs left cached of these dossiers (their pages, JSON and payloads
    in Redis; web processes keep only what they found in Redis, which a token asked once never is) is
    forgotten and the list starts over: every request of a cold run is still a database read."""

    def __init__(self, tokens, forget):
        self.tokens = tokens
        self.forget = forget  # drops every cached copy of these tokens
        self.used = 0
        self.asked = 0
        self.largest = 0
        self.restarts = 0
        self.repeated = False

    def take(self):
        if len(self.tokens) - self.used < 1.5 * self.largest:
            self.forget()
            self.used = 0
            self.restarts += 1
        return self.tokens[self.used :]

    def spent(self, result):
        asked = result["requests"] + 2 * THREADS  # wrk's connections may each have one more under way
        self.repeated |= asked > len(self.tokens) - self.used
        self.largest = max(self.largest, asked)
        self.asked += asked
        self.used = min(len(self.tokens), self.used + asked)


def forget_cached(keep):
    """Delete the province's cached lookup copies in the benchmark's Redis, but those of the tokens in `keep`."""
    client = redis.Redis.from_url(REDIS)
    doomed = [
        key
        for key in client.scan_iter(match=f"{SCHEMA}:lookup:*", count=10_000)
        if key.rsplit(b":", 1)[1].decode() not in keep
    ]
    for start in range(0, len(doomed), 10_000):
        client.delete(*doomed[start : start + 10_000])


def median_of(runs):
    keys = ("rps", "p50", "p99", "cpu_web", "cpu_all")
    merged = {k: statistics.median(r[k] for r in runs) for k in keys}
    merged["errors"] = sum(r["non_2xx"] + r["socket_errors"] for r in runs)
    merged["requests"] = sum(r["requests"] for r in runs)
    return merged


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10, help="per run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every case, interleaved; medians shown")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--dossiers", type=int, default=int(os.environ.get("BENCH_DOSSIERS", 100_000)))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="per gunicorn worker")
    parser.add_argument("--paced-fraction", type=float, default=0.5, help="paced runs at this share of cold rate")
    args = parser.parse_args()

    ensure_wrk()
    total, tokens = prepare_database(args.dossiers)
    hot = random.Random(12).sample(tokens, min(HOT_TOKENS, len(tokens)))
    chosen = set(hot)
    cold = [t for t in tokens if t not in chosen]
    random.Random(7).shuffle(cold)
    cold = ColdTokens(cold, lambda: forget_cached(chosen))  # never cached when asked (see ColdTokens)
    env = lookup_env()
    sh(sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", env=env)
    redis.Redis.from_url(REDIS).flushdb()  # the benchmark's own database (BENCH_REDIS_URL)
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
            str(args.threads),
            "--log-level",
            "warning",
            "--no-control-socket",  # several gunicorns on one machine would share its default path
        ],
        cwd=ROOT,
        env=env,
    )

    def measured(run):
        """A run with the CPU it cost per request: gunicorn's, and gunicorn's with PostgreSQL's and Redis's."""

        def counted(rate=None):
            web, servers = cpu_by_process(server.pid), cpu_by_process(names=SERVERS)
            result = run(rate)
            web_ms = cpu_used(web, cpu_by_process(server.pid)) * 1000
            servers_ms = cpu_used(servers, cpu_by_process(names=SERVERS)) * 1000
            requests = max(result["requests"], 1)
            result["cpu_web"], result["cpu_all"] = web_ms / requests, (web_ms + servers_ms) / requests
            return result

        return counted

    def cold_run(prefix, rate=None):
        result = wrk(prefix, args.seconds, args.connections, cold.take(), rate=rate)
        cold.spent(result)
        return result

    cases = {
        "a constant view": lambda rate=None: wrk("/bench/constant/", args.seconds, args.connections),
        "b hot QR page": lambda rate=None: wrk("/tra-cuu/", args.seconds, args.connections, hot, rate=rate),
        "c hot API lookup": lambda rate=None: wrk("/api/v1/lookup/", args.seconds, args.connections, hot, rate=rate),
        "d cold QR page": lambda rate=None: cold_run("/tra-cuu/", rate),
        "e cold API lookup": lambda rate=None: cold_run("/api/v1/lookup/", rate),
    }
    cases = {name: measured(run) for name, run in cases.items()}
    runs = {name: [] for name in cases}
    paced = {}
    try:
        wait_for_port(PORT)
        wait_for_answer(f"http://127.0.0.1:{PORT}/bench/constant/")  # the workers have loaded Django
        wrk("/bench/constant/", 5, args.connections)  # warm up every worker
        fill(hot)  # every hot token's page and JSON cached, as a first wave of scans would
        # The cold path warmed too, as a server on results day would be: whichever cold case ran first
        # otherwise paid for PostgreSQL's first reads of the tables (swapping the two cases' order
        # swapped their ratios: 0.22 / 0.25 against 0.25 / 0.22).
        for prefix in ("/tra-cuu/", "/api/v1/lookup/"):
            cold.spent(wrk(prefix, 5, args.connections, cold.take()))
        for _round in range(args.rounds):  # interleaved: a load that comes and goes touches every case
            for name, run in cases.items():
                runs[name].append(run())
        results = {name: median_of(r) for name, r in runs.items()}
        rate = args.paced_fraction * min(results["d cold QR page"]["rps"], results["e cold API lookup"]["rps"])
        for name, run in cases.items():
            if name[0] != "a":
                paced[name] = median_of([run(rate)])
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"\nlookup benchmark: {total:,} dossiers in the province, {args.rounds} rounds × {args.seconds}s per case "
        f"(medians), {args.connections} connections, wrk {THREADS} threads, "
        f"gunicorn {args.workers} workers × {args.threads} threads, DEBUG off; "
        f"the machine's 2 cores are shared with wrk and other work (noisy)"
    )
    header = (
        f"{'':<20}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}{'requests':>10}"
        f"{'CPU ms/req':>12}{'+ PG, Redis':>12}"
    )

    def table(rows):
        print(header)
        for name, r in rows.items():
            print(
                f"{name:<20}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['errors']:>10}{r['requests']:>10}"
                f"{r['cpu_web']:>12.2f}{r['cpu_all']:>12.2f}"
            )

    print("full rate (every connection busy: latency is mostly queueing)")
    table(results)
    print(f"paced (about {rate:.0f} req/s in total = {args.paced_fraction:.2f} × the slower cold rate), one run each")
    table(paced)
    print(
        f"cold runs asked {cold.asked:,} dossiers of a list of {len(cold.tokens):,}"
        + (f", started over {cold.restarts} times, their cached copies forgotten first" if cold.restarts else "")
        + ("; a run reached the list's end, some were asked twice" if cold.repeated else ", none from a cache")
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
