from celery import shared_task

from . import services


@shared_task
def delete_expired_files():
    """Beat, in every province: files citizens sent online, past SUPPLEMENT_RETENTION_DAYS, are deleted."""
    return services.delete_expired_files()
