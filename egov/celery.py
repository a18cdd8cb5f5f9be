"""Celery app: Redis broker; every task runs in the schema of the province that queued it.

tenant-schemas-celery stamps the current schema into each message's headers when a task is
queued and switches the worker's connection to that schema before the task runs.
"""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egov.settings")

app = CeleryApp("egov")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
