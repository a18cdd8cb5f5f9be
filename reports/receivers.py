"""The dossier events keep the figures: each event refreshes its dossier's contribution, in the event's
transaction (dossiers.services._record sends `dossier_event` inside it)."""

from django.dispatch import receiver

from dossiers.events import dossier_event


@receiver(dossier_event, dispatch_uid="reports.figures")
def _dossier_changed(sender, event, dossier, **kwargs):
    from . import figures

    figures.refresh_dossier(dossier, event)
