import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egov.settings")
application = get_wsgi_application()

# What a web process loads at start (settings, apps, models, the URL conf) lives as long as the process.
# Frozen, the garbage collector no longer walks it: a full collection in a worker took about 100 ms
# (145,000 objects), a pause of every thread of that worker in the middle of its requests; after
# `gc.freeze()` it walks only what requests have made since. With gunicorn's --preload the frozen
# objects are also shared with the workers, never written by a collection.
get_resolver().url_patterns  # noqa: B018 - imported now, so frozen with the rest
gc.freeze()
