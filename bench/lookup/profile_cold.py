"""Where a cold QR status page spends its CPU (not a test): in-process, through Django's WSGI handler.

Run after bench/lookup/run.py has seeded its database (BENCH_DATABASE_URL, BENCH_REDIS_URL, the
same defaults). Asks N never-cached dossiers' pages (the bench's seeded tokens, from the end of the
list) and the constant view, times them per request, then profiles the cold pages with cProfile:

    .venv/bin/python bench/lookup/profile_cold.py [--requests 2000] [--rounds 5] [--top 40] [--no-profile]
        [--door page|api]

The timing alternates rounds of constant views and cold pages (a load from elsewhere on the machine
touches both alike) and prints each round's ratio and their median.

The Redis database is flushed first (it must be the benchmark's own).
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time

import psycopg

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import DB, REDIS, ROOT, base_env

sys.path.insert(0, str(ROOT))
from bench.seeding import TOKEN_PREFIX

HOST = "danang.localhost"
SCHEMA = "danang"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000, help="per case and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--door", choices=["page", "api"], default="page", help="the QR page or the API lookup")
    args = parser.parse_args()

    os.environ.update(base_env(BENCH_ENDPOINTS="1", LOOKUP_RATE_PER_ADDRESS="100000000/60"))
    import django

    django.setup()
    import redis
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import RequestFactory

    with psycopg.connect(DB, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{SCHEMA}", public')
        tokens = [
            r[0]
            for r in conn.execute(
                "SELECT lookup_token FROM dossiers_dossier WHERE lookup_token LIKE %s ORDER BY id DESC LIMIT %s",
                [TOKEN_PREFIX + "%", (args.rounds + 1) * args.requests + 10],
            )
        ]
    redis.Redis.from_url(REDIS).flushdb()
    handler = WSGIHandler()
    factory = RequestFactory(HTTP_HOST=HOST)

    def get(path):
        environ = factory.get(path).environ
        environ["wsgi.input"] = io.BytesIO(b"")
        out = []
        body = handler(environ, lambda status, headers: out.append(status))
        content = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        assert out[0].startswith("200"), (path, out[0], content[:300])
        return content

    prefix = "/tra-cuu/" if args.door == "page" else "/api/v1/lookup/"
    get("/bench/constant/")
    get(f"{prefix}{tokens.pop()}/")  # warm: the province resolved, the statement prepared

    cpu = {}

    def timed(paths, name):
        start, used = time.perf_counter(), time.process_time()
        for path in paths:
            get(path)
        cpu.setdefault(name, []).append((time.process_time() - used) / len(paths) * 1000)
        return (time.perf_counter() - start) / len(paths) * 1000

    n = args.requests
    ratios = []
    for number in range(args.rounds):
        constant = timed(["/bench/constant/"] * n, "constant")
        cold = timed([f"{prefix}{tokens.pop()}/" for _ in range(n)], "cold")
        ratios.append(constant / cold)
        print(
            f"round {number + 1}: constant {constant:.3f} ms, cold {args.door} {cold:.3f} ms per request, "
            f"ratio {ratios[-1]:.2f}"
        )
    print(
        f"in-process, {args.rounds} rounds × {n} requests each: "
        f"median ratio constant/cold = {statistics.median(ratios):.2f}; CPU of this process per request: "
        f"constant {statistics.median(cpu['constant']):.3f} ms, cold {statistics.median(cpu['cold']):.3f} ms "
        f"(ratio {statistics.median(cpu['constant']) / statistics.median(cpu['cold']):.2f})"
    )
    if args.no_profile:
        return
    paths = [f"{prefix}{tokens.pop()}/" for _ in range(n)]
    profile = cProfile.Profile(time.process_time)  # CPU time: waiting on Redis and PostgreSQL not counted
    profile.enable()
    for path in paths:
        get(path)
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
