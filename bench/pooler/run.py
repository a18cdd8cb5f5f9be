"""Why a pooler in front of django-tenants must run in session mode, never transaction mode.

django-tenants chooses a province by sending `SET search_path = '<province>', 'public'` as a statement
of its own (autocommit) before the request's queries run on the same connection
(django_tenants/postgresql_backend/base.py, `_handle_search_path`). A transaction-mode pooler
(PgBouncer `pool_mode = transaction`) hands each transaction to whichever server connection is free,
so the SET and the query that follows may run on different server connections, and the query then
reads whatever province the other connection was last set to (or none: the default path).

This starts its own PgBouncer on a free port in front of the local PostgreSQL, once per mode, with
fewer server connections than clients (as in production), and has CLIENTS threads each play one
province: `SET search_path` then `SELECT` of a marker row naming the schema, ROUNDS times. It prints
how many answers came from another province's schema. Needs `pgbouncer` (Debian: apt-get install
pgbouncer); nothing else of the project.

    .venv/bin/python bench/pooler/run.py
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.common import free_port

POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("BENCH_POOLER_DATABASE", "egov_bench_pooler")
CLIENTS = 8
SERVER_CONNECTIONS = 2
ROUNDS = 300


def prepare():
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    with psycopg.connect(f"{POSTGRES}/{DATABASE}", autocommit=True) as conn:
        for n in range(CLIENTS):
            schema = f"province_{n}"
            name = sql.Identifier(schema)
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
            conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {}.marker (name text)").format(name))
            conn.execute(sql.SQL("TRUNCATE {}.marker").format(name))
            conn.execute(sql.SQL("INSERT INTO {}.marker VALUES (%s)").format(name), [schema])


def start_pgbouncer(mode, workdir):
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        raise SystemExit("pgbouncer is needed: apt-get install pgbouncer")
    port = free_port()
    ini = Path(workdir) / f"{mode}.ini"
    users = Path(workdir) / "users.txt"
    users.write_text('"postgres" ""\n')
    ini.write_text(
        "[databases]\n"
        f"{DATABASE} = host=127.0.0.1 port=5432 dbname={DATABASE} user=postgres\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {users}\npool_mode = {mode}\n"
        f"default_pool_size = {SERVER_CONNECTIONS}\nmax_client_conn = 100\n"
        f"logfile = {Path(workdir) / (mode + '.log')}\npidfile = {Path(workdir) / (mode + '.pid')}\n"
    )
    command = [binary, str(ini)]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root: it switches to the postgres user
        Path(workdir).chmod(0o777)
        command = [binary, "-u", "postgres", str(ini)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for _attempt in range(200):  # until it answers (each try waits on the connection itself)
        try:
            psycopg.connect(f"postgres://postgres@127.0.0.1:{port}/{DATABASE}", connect_timeout=1).close()
            return process, port
        except psycopg.OperationalError:
            if process.poll() is not None:
                raise SystemExit(f"pgbouncer ({mode}) exited: {process.stdout.read()}") from None
    process.terminate()
    raise SystemExit(f"pgbouncer ({mode}) did not answer")


def play(port, n, wrong, done):
    schema = f"province_{n}"
    # As Django with django-tenants does: autocommit, the SET as its own statement, then the query.
    # prepare_threshold=None: no server-side prepared statements (Django's own setting).
    with psycopg.connect(
        f"postgres://postgres@127.0.0.1:{port}/{DATABASE}", autocommit=True, prepare_threshold=None
    ) as conn:
        for _ in range(ROUNDS):
            conn.execute(sql.SQL("SET search_path = {}, 'public'").format(sql.Literal(schema)))
            try:
                (name,) = conn.execute("SELECT name FROM marker").fetchone()
            except psycopg.errors.UndefinedTable:  # a server connection nobody had set: public's path
                name = "public"
            if name != schema:
                wrong[n] += 1
            done[n] += 1


def measure(mode, workdir):
    process, port = start_pgbouncer(mode, workdir)
    try:
        wrong, done = [0] * CLIENTS, [0] * CLIENTS
        threads = [threading.Thread(target=play, args=(port, n, wrong, done)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(wrong), sum(done)
    finally:
        process.terminate()
        process.wait()


def main():
    prepare()
    print(f"{CLIENTS} clients, each one province, {ROUNDS} queries each, {SERVER_CONNECTIONS} server connections")
    print("| PgBouncer pool_mode | queries | answered from another province's schema |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as workdir:
        for mode in ("session", "transaction"):
            wrong, done = measure(mode, workdir)
            print(f"| {mode} | {done:,} | {wrong:,} ({wrong / done:.1%}) |")


if __name__ == "__main__":
    main()
