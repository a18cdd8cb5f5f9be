"""What the review of files sent online tells the rest of the portal (the notifications listen)."""

from django.dispatch import Signal

# Refusals the citizen has not been told yet, sent inside the review's transaction: the receiver writes
# the one message (an outbox row) in that transaction, so no refusal is recorded without its message.
# Arguments: dossier, request (the SupplementRequest), files (the refused files told now), missing (the
# text of everything still missing), officer (the contact the citizen may call).
supplement_files_refused = Signal()
