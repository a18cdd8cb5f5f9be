"""A thousand tenants: creating a province, no-op migrate_schemas at 34 and 1,000, beat's fan-out.

    .venv/bin/python bench/tenants/run.py

Uses its own database (BENCH_DATABASE_URL, default egov_bench), dropped and re-created at the start,
and Redis (BENCH_REDIS_URL). Prints:
- create: seconds to create one province by the real path (create_province: row, schema, its
  tables and data, domain), in-process, median of the first few, and the `create_province` command
  from a shell (Python start-up included);
- migrate: wall seconds of `migrate_schemas --executor=multiprocessing` with nothing to apply at 34
  provinces and at BENCH_TENANTS (default 1,000);
- beat: seconds for beat to dispatch each schedule entry once to every province, and the messages it
  queued; cache: the web process's host → province cache filled with every domain (time, bytes).
BENCH_ROOT points at another checkout to measure its code (the "before" figures).
Targets on this machine: create < 5 s, migrate at 34 < 10 s, at 1,000 < 60 s.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psycopg

from bench.common import DB, base_env, sh

HERE = Path(__file__).resolve().parent
CODE = Path(os.environ.get("BENCH_ROOT", HERE.parents[1])).resolve()
TENANTS = int(os.environ.get("BENCH_TENANTS", "1000"))
PYTHON = sys.executable


def run(*args, env):
    start = time.perf_counter()
    subprocess.run(args, cwd=CODE, env=env, check=True, text=True, capture_output=True)
    return time.perf_counter() - start


def driver(*args, env):
    out = subprocess.run(
        [PYTHON, str(HERE / "driver.py"), *map(str, args)],
        cwd=CODE,
        env=env,
        check=True,
        text=True,
        capture_output=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def fresh_database():
    sh(PYTHON, "scripts/services.py")
    name = DB.rsplit("/", 1)[1]
    with psycopg.connect(DB.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def grow(count, have, env):
    """Provinces bt<have>..bt<count-1>, by create_province, in chunks (a fresh process each)."""
    times = []
    start = time.perf_counter()
    for first in range(have, count, 100):
        times += driver("create", first, min(first + 100, count), env=env)["seconds"]
    return times, time.perf_counter() - start


def main():
    env = {**base_env(), "PYTHONPATH": str(CODE)}
    print(f"bench/tenants: code {CODE}, database {DB.rsplit('/', 1)[1]}, {os.cpu_count()} cores (shared, noisy)")
    fresh_database()
    run(PYTHON, "manage.py", "migrate_schemas", "--shared", "--noinput", "-v0", env=env)

    command = run(
        *(PYTHON, "manage.py", "create_province", "--name", "Tỉnh thử 0", "--slug", "bt0000"),
        *("--domain", "bt0000.localhost", "--agency-code", "000.00.00.H99"),
        env=env,
    )
    first = driver("create", 1, 6, env=env)["seconds"]
    again = run(
        *(PYTHON, "manage.py", "create_province", "--name", "Tỉnh thử 6", "--slug", "bt0006"),
        *("--domain", "bt0006.localhost", "--agency-code", "000.00.06.H99"),
        env=env,
    )
    print(
        f"create: one province in-process median {statistics.median(first):.2f} s (of 5: "
        + ", ".join(f"{s:.2f}" for s in first)
        + f"); the create_province command {command:.2f} s for the first province (Python start-up and, "
        f"after the work, the template built by the migrations), {again:.2f} s for the next one"
    )

    have = 7
    for size in sorted({34, TENANTS}):
        times, wall = grow(size, have, env)
        if times:
            print(
                f"grow: {len(times)} more provinces to {size} in {wall:.1f} s "
                f"(median {statistics.median(times):.2f} s each, max {max(times):.2f} s)"
            )
        have = size
        migrate = run(PYTHON, "manage.py", "migrate_schemas", "--executor=multiprocessing", "--noinput", "-v0", env=env)
        print(
            f"migrate: no-op migrate_schemas --executor=multiprocessing over {size} provinces: {migrate:.1f} s "
            f"({migrate / size * 1000:.0f} ms a province)"
        )

    fan = driver("fanout", env=env)
    total = sum(fan["entries"].values())
    print(
        f"beat: one tick of every entry to {TENANTS} provinces {total:.2f} s "
        + json.dumps(fan["entries"])
        + "; messages queued "
        + json.dumps(fan["messages"])
    )
    cache = driver("cache", env=env)
    print(
        f"cache: {cache['domains']} hosts, first lookups {cache['cold_s']:.2f} s, "
        f"repeated {cache['warm_s'] * 1000:.1f} ms, {cache['bytes'] / 1024:.0f} KiB"
    )


if __name__ == "__main__":
    main()
