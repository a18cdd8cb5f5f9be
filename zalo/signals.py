"""Signals other apps listen to, so zalo code does not write their rows itself."""

from django.dispatch import Signal

# Sent inside the linking transaction with `link` (a new zalo.models.DossierLink): the notifications
# app writes the announcement to the applicant's phone in the same transaction.
dossier_link_created = Signal()
