"""Officers' API list benchmark (not a test): does a page cost the same at 1,000 and at 1,000,000 dossiers?

Seeds two provinces of the bench database with a realistic history (bench/seeding.py): Cà Mau with
SMALL dossiers (default 1,000) and Đà Nẵng with LARGE (default 1,000,000); a million takes minutes
the first time, and the seed is kept for the next runs. Then, in-process (Django test client,
DEBUG off, token of the counter officer "motcua" as the API tests do), it times:
  - the list's page 1 (``/api/v1/dossiers/?limit=50``),
  - page 50 of 20 rows (1,000 dossiers hold 50 such pages), reached by following ``next`` from
    ``?limit=20`` (the URLs the API itself hands out),
  - a worklist (``?worklist=overdue``) page 1,
  - a search without diacritics (``?q=nguyen van an``) page 1: a common name, matched by about 6
    of the 1,000 and 6,500 of the 1,000,000 (the page sorts its matches: it grows with them),
  - a search for one ID number (one match in either),
and prints p50/p95 per page and size, and the ratio LARGE/SMALL for each (target ≤ 1.5).

    .venv/bin/python bench/api/run.py [--small 1000] [--large 1000000] [--repeat 25]
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import DB, prepare_database, setup_django

PROVINCES = {"small": ("camau", "camau.localhost"), "large": ("danang", "danang.localhost")}
PAGES = (
    ("page 1 (limit 50)", {"limit": 50}),
    ("page 50 (limit 20, next ×49)", None),
    ("worklist overdue", {"limit": 50, "worklist": "overdue"}),
    ("search 'nguyen van an'", {"limit": 50, "q": "nguyen van an"}),
    ("search an ID number", {"limit": 50, "q": "048000000777"}),  # seeded dossier 777's, in both
)


def get(client, url, params, host):
    start = time.perf_counter()
    response = client.get(url, params, HTTP_HOST=host)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} {params} → {response.status_code}: {response.content[:300]!r}")
    return elapsed


def page_50_url(client, host):
    url = "/api/v1/dossiers/?limit=20"
    for _ in range(49):
        body = client.get(url, HTTP_HOST=host).json()
        if not body.get("next"):
            raise SystemExit("fewer than 50 pages")
        url = body["next"].split(host, 1)[-1]
    return url


def officer_client(slug):
    from django.contrib.auth.models import User
    from django.test import Client
    from django_tenants.utils import schema_context
    from rest_framework.authtoken.models import Token

    with schema_context(slug):
        token, _ = Token.objects.get_or_create(user=User.objects.get(username="motcua"))
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def measure(repeat):
    """p50/p95 per page and size; the two sizes' requests alternate, so both see the same machine load."""
    clients = {key: officer_client(slug) for key, (slug, _) in PROVINCES.items()}
    results = {}
    for name, params in PAGES:
        requests = {}
        for key, (_, host) in PROVINCES.items():
            url = page_50_url(clients[key], host) if params is None else "/api/v1/dossiers/"
            requests[key] = (url, params, host)
            get(clients[key], *requests[key])  # warm-up (and the answer checked)
        times = {key: [] for key in PROVINCES}
        for _ in range(repeat):
            for key in PROVINCES:
                times[key].append(get(clients[key], *requests[key]))
        for key, values in times.items():
            values.sort()
            results.setdefault(key, {})[name] = (statistics.median(values), values[max(0, round(0.95 * repeat) - 1)])
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()

    prepare_database()
    setup_django()
    from seeding import seed_dossiers

    sizes = {"small": args.small, "large": args.large}
    totals = {key: seed_dossiers(DB, PROVINCES[key][0], sizes[key]) for key in sizes}
    results = measure(args.repeat)
    print(
        f"API list /api/v1/dossiers/, in-process, p50/p95 ms over {args.repeat} requests each, the two sizes "
        "alternating (shared 2-core machine)"
    )
    print(f"{'page':<30} {totals['small']:>12,} dossiers {totals['large']:>12,} dossiers   large/small (p50)")
    for name, _ in PAGES:
        small, large = results["small"][name], results["large"][name]
        print(
            f"{name:<30} {small[0]:>8.1f} / {small[1]:<8.1f}  {large[0]:>8.1f} / {large[1]:<8.1f}"
            f"      {large[0] / small[0]:.2f}"
        )


if __name__ == "__main__":
    main()
