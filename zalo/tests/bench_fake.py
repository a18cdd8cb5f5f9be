"""Throughput of the fake Zalo from one keep-alive client (not collected by pytest).

    python -m zalo.tests.bench_fake [--requests 5000] [--in-thread]

By default the fake runs in its own process (``python -m fakezalo``), as in development; with
``--in-thread`` it shares this process (and its GIL) with the client, as in the test suite.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from fakezalo import run_in_thread
from zalo.client import ZaloClient


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(url: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(url + "/_fake/health", trust_env=False)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def bench(url: str, requests: int) -> dict[str, float]:
    results = {}
    with ZaloClient(url, url, url) as client:
        pair = client.refresh_access_token("bench-app", "bench-secret", "bench-rt")
        for _ in range(50):  # warm-up
            client.zns_quota(pair.access_token)
        started = time.perf_counter()
        for i in range(requests):
            client.send_zns(pair.access_token, "84912345678", "tpl", {"n": str(i)}, f"bench-{i}")
        results["zns_send_per_s"] = requests / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(requests):
            client.zns_quota(pair.access_token)
        results["quota_get_per_s"] = requests / (time.perf_counter() - started)
    stats = httpx.get(url + "/_fake/stats", trust_env=False).json()
    assert stats["accepted"]["zns"] == requests and not stats["duplicates"], stats
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--in-thread", action="store_true")
    args = parser.parse_args()
    app = "bench-app:bench-secret:bench-oa:bench-key:bench-rt"
    options = ["--zns-daily-quota", str(args.requests + 10)]
    if args.in_thread:
        server, url = run_in_thread(apps=[app], zns_daily_quota=args.requests + 10)
        try:
            print("in-thread:", bench(url, args.requests))
        finally:
            server.stop()
        return
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "fakezalo", "--port", str(port), "--app", app, *options],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(url)
        print("separate process:", bench(url, args.requests))
    finally:
        process.terminate()
        process.wait(5)


if __name__ == "__main__":
    main()
