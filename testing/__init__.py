"""Test helpers shared by the apps' tests (a development tool: product code never imports it).

``testing.live``  the live stack: a throwaway province, the fake Zalo, the portal as a real server process,
                  real Celery workers and a private Redis.
``testing.zalo``  a fake Zalo in a thread with a client pointed at it, a webhook receiver, the test OA.
``testing.wire``  a web process's kind of database connection, and what it sends (statements, round trips).
"""
