from celery import shared_task

from . import figures


@shared_task
def reconcile_figures():
    """Beat, in every province: refresh the messages whose state changed since the last run and whose
    contribution to the figures is older than that change (a refresh that failed, or never ran)."""
    return figures.reconcile()


@shared_task
def fold_figures():
    """Beat, in every province: add the appended differences into the counters."""
    return figures.fold()


@shared_task
def rebuild_figures():
    """Recompute the province's figures (after its calendar or catalogue changed)."""
    return figures.rebuild()
