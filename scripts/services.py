"""Make sure PostgreSQL and Redis answer and the project's database exists.

Starts the machine's own PostgreSQL cluster and Redis server when they are not answering
(the commands this kind of machine uses), waits for them, then creates the database named in
DATABASE_URL if it is missing. Used by `make run` and `make test`.
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/egov")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def answering(host, port):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(name, host, port, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answering(host, port):
            return
        time.sleep(0.5)
    sys.exit(f"{name} is not answering on {host}:{port} after {seconds}s")


def start_postgres():
    versions = sorted(os.path.basename(p) for p in glob.glob("/etc/postgresql/*"))
    if not versions or not shutil.which("pg_ctlcluster"):
        sys.exit("PostgreSQL is not answering and no local cluster was found to start: set DATABASE_URL.")
    print(f"starting PostgreSQL {versions[-1]} …", flush=True)
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=False)


def start_redis(port):
    if not shutil.which("redis-server"):
        sys.exit("Redis is not answering and redis-server is not installed: set REDIS_URL.")
    print("starting Redis …", flush=True)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )


def ensure_database(url):
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"creating database {name} …", flush=True)
            conn.execute(f'CREATE DATABASE "{name}"')


def main():
    db = urlparse(DATABASE_URL)
    db_host, db_port = db.hostname or "127.0.0.1", db.port or 5432
    if not answering(db_host, db_port):
        if db_host not in ("127.0.0.1", "localhost"):
            sys.exit(f"PostgreSQL at {db_host}:{db_port} is not answering.")
        start_postgres()
    wait_for("PostgreSQL", db_host, db_port)

    rd = urlparse(REDIS_URL)
    rd_host, rd_port = rd.hostname or "127.0.0.1", rd.port or 6379
    if not answering(rd_host, rd_port):
        if rd_host not in ("127.0.0.1", "localhost"):
            sys.exit(f"Redis at {rd_host}:{rd_port} is not answering.")
        start_redis(rd_port)
    wait_for("Redis", rd_host, rd_port)

    # PostgreSQL accepts TCP a moment before it accepts logins.
    for attempt in range(20):
        try:
            ensure_database(DATABASE_URL)
            break
        except Exception as exc:  # noqa: BLE001
            if attempt == 19:
                sys.exit(f"cannot prepare the database: {exc}")
            time.sleep(0.5)
    print("PostgreSQL and Redis are up.", flush=True)


if __name__ == "__main__":
    main()
