"""Domain events of dossiers.

`dossier_event` is sent INSIDE the transaction that wrote the event, so a receiver (the
notification outbox) can write its own rows atomically with it. `dossier_event_committed` is sent
after the commit, for work outside the database (cache invalidation, Celery, HTTP).
Both carry `event` (the DossierEvent) and `dossier`.
"""

from django.dispatch import Signal

dossier_event = Signal()
dossier_event_committed = Signal()
