"""Where an API intake spends its CPU (not a test): in-process, through Django's WSGI handler.

Run after bench/intake/run.py has prepared its database (BENCH_DATABASE_URL, BENCH_REDIS_URL, the
same defaults). Posts N counter intakes (the bench's bodies, the bench officer's token), times them
against the constant view, then profiles the intakes with cProfile:

    .venv/bin/python bench/intake/profile_intake.py [--requests 300] [--top 40] [--sort tottime]

The Redis database is flushed at the end (it must be the benchmark's own: no worker runs here).
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import REDIS, ROOT, SERVERS, base_env, cpu_by_process, cpu_used
from run import HOST, TOKEN, prepare_bodies

sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--callees", default="", help="print the callees of functions matching this")
    args = parser.parse_args()

    bodies = prepare_bodies()
    os.environ.update(base_env(BENCH_ENDPOINTS="1"))
    import django

    django.setup()
    import redis
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test.client import RequestFactory
    from django.test.utils import CaptureQueriesContext

    handler = WSGIHandler()
    factory = RequestFactory(HTTP_HOST=HOST)
    tag = "Profile " + uuid.uuid4().hex[:8]
    counter = iter(range(10**9))

    def call(request, expect):
        environ = request.environ
        out = []
        body = handler(environ, lambda status, headers: out.append(status))
        content = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        assert out[0].startswith(expect), (out[0], content[:500])

    def intake():
        i = next(counter)
        body = dict(bodies[i % len(bodies)])
        body["applicant"] = {**body["applicant"], "name": f"{tag} {i}", "phone": f"09{i % 100000000:08d}"}
        request = factory.post(
            "/api/v1/dossiers/", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Token {TOKEN}"
        )
        call(request, "201")

    def constant():
        request = factory.get("/bench/constant/")
        request.environ["wsgi.input"] = io.BytesIO(b"")
        call(request, "200")

    for _ in range(len(bodies) + 5):  # every procedure once: the web process has them all in its cache
        intake()
        constant()
    with CaptureQueriesContext(connection) as queries:
        intake()
    print(f"{len(queries)} statements per intake:")
    for q in queries:
        print("   ", q["sql"][:160])
    spent = {}
    for _ in range(50):
        with CaptureQueriesContext(connection) as queries:
            intake()
        for n, q in enumerate(queries):
            key = (n, " ".join(q["sql"].split())[:70].split(' "s')[0])
            spent[key] = spent.get(key, 0.0) + float(q["time"]) * 1000 / 50
    print("mean ms per statement (wall, as Django's debug cursor times them):")
    for (n, sql), ms in sorted(spent.items()):
        print(f"  {ms:7.2f}  {n:2d} {sql}")

    def timed(fn, n):
        start, cpu, servers = time.perf_counter(), time.process_time(), cpu_by_process(names=SERVERS)
        for _ in range(n):
            fn()
        servers = cpu_used(servers, cpu_by_process(names=SERVERS))
        return (time.perf_counter() - start) / n * 1000, (time.process_time() - cpu) / n * 1000, servers / n * 1000

    c, c_cpu, _ = timed(constant, args.requests)
    t, t_cpu, t_servers = timed(intake, args.requests)
    print(
        f"per request, in-process: constant {c:.2f} ms wall, {c_cpu:.2f} ms CPU; "
        f"intake {t:.2f} ms wall (database included), {t_cpu:.2f} ms CPU of this process, "
        f"{t_servers:.2f} ms of PostgreSQL's and Redis's (the machine's other users' too)"
    )
    if not args.no_profile:
        profile = cProfile.Profile(time.process_time)  # CPU time: waiting on the database is not counted
        profile.enable()
        for _ in range(args.requests):
            intake()
        profile.disable()
        stats = pstats.Stats(profile).sort_stats(args.sort)
        if args.callees:
            stats.print_callees(args.callees)
        else:
            stats.print_stats(args.top)
    redis.Redis.from_url(REDIS).flushdb()


if __name__ == "__main__":
    main()
