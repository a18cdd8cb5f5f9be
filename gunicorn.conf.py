"""gunicorn's settings for the portal's web processes (gunicorn reads this file from its working
directory: the image's /app, or a checkout's root).

The shape the benchmarks measure (bench/lookup, bench/intake): per core, two processes of four
threads; 4 × 4 on the 2-core machine the README's figures come from. Threads let a process serve
other requests while one waits on PostgreSQL, Redis or Zalo; processes let the cores run Python at
once. WEB_CONCURRENCY (processes) and WEB_THREADS override them, e.g. where a container is given
fewer cores than the host has.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * len(os.sched_getaffinity(0)))
threads = int(os.environ.get("WEB_THREADS") or 4)
worker_class = "gthread"
