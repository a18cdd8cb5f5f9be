"""Shared by the benchmarks: a separate database seeded with the demo provinces, production-like env."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/egov_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def sh(*args, env=None):
    return subprocess.run(args, cwd=ROOT, env=env, check=True, text=True, capture_output=True)


def base_env(**extra):
    return {
        **os.environ,
        "DATABASE_URL": DB,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "ALLOWED_HOSTS": ".localhost,localhost,127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "REDIS_URL": REDIS,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "egov.settings",
        **extra,
    }


def prepare_database(env=None):
    """Services up, the bench database created, migrated and seeded with the demo provinces."""
    sh(sys.executable, "scripts/services.py")
    name = DB.rsplit("/", 1)[1]
    with psycopg.connect(DB.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    env = env or base_env()
    sh(sys.executable, "manage.py", "migrate_schemas", "--noinput", "-v0", env=env)
    sh(sys.executable, "manage.py", "seed_demo", "--force", env=env)


def setup_django(env=None):
    """Django set up in this process with the benchmark's production-like environment (DEBUG off)."""
    os.environ.update(env or base_env())
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def vacuum(table, *schemas):
    """VACUUM (ANALYZE) `table` of each schema, as autovacuum does on a real table after a bulk load: the
    same state for every run (the statistics, and the visibility map index-only scans read)."""
    with psycopg.connect(DB, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f'VACUUM (ANALYZE) "{schema}".{table}')


def percentile(values, fraction):
    """The value at `fraction` (0.5: the median's lower neighbour for an even count) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def gunicorn_command():
    """gunicorn from the interpreter running the benchmark (the virtualenv's), whatever is on PATH."""
    return [sys.executable, "-m", "gunicorn"]


def ensure_wrk():
    """wrk for the HTTP benchmarks: installed by scripts/ensure_wrk.sh when missing (or it says how)."""
    if subprocess.run(["bash", str(ROOT / "scripts" / "ensure_wrk.sh")], cwd=ROOT).returncode:
        raise SystemExit("wrk is needed for this benchmark")


def free_port():
    """A TCP port nobody listens on now (other benchmarks may run on the same machine)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answers on port {port}")


SERVERS = ("postgres", "redis-server")  # their CPU is counted with gunicorn's (the machine's other users' too)


def cpu_by_process(parent_pid=None, names=()):
    """CPU time (user + system, seconds) used so far, from /proc, by the process `parent_pid` and its
    children (gunicorn's master and workers), and by every process whose name is in `names`
    ("postgres", "redis-server": the servers' own share, whoever else uses them); by pid."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        ours = parent_pid is not None and parent_pid in (int(entry), int(fields[1]))  # fields[1]: the parent
        if ours or name in names:
            used[int(entry)] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime in clock ticks
    return used


def cpu_used(before, after):
    """Seconds of CPU between two `cpu_by_process` readings: of the processes alive at the second (one
    that ended in between is left out, rather than its whole past subtracted)."""
    return sum(seconds - before.get(pid, 0) for pid, seconds in after.items())
