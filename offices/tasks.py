from celery import shared_task
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from .models import Department


@shared_task
def clear_expired_sessions():
    """Beat runs this in every province schema: sessions are per province."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return {"schema": connection.schema_name, "deleted": deleted}


@shared_task(ignore_result=False)
def department_codes():
    """Diagnostic: the schema a worker ran this in and the departments it saw there (read back by its caller)."""
    return {"schema": connection.schema_name, "codes": sorted(Department.objects.values_list("code", flat=True))}
