"""Reading an uploaded file under the size cap, while the request body is being read.

`CappedUploadHandler` goes first in the request's upload handlers: it counts each file's bytes as the
multipart parser hands them over and stops the upload (`StopUpload`, the rest of the body unread) as soon
as one file passes the cap; the view then answers with the refusal instead of the file. The view refuses
a request whose declared length is already too large before reading any of it (`too_long`).
"""

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from .checks import max_bytes

# Room for the multipart envelope around one file and its form fields.
ENVELOPE_BYTES = 64 * 1024


def too_long(request) -> bool:
    """The body as declared is larger than one file under the cap and its form could be."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > max_bytes() + ENVELOPE_BYTES


class CappedUploadHandler(FileUploadHandler):
    def __init__(self, request=None, limit=None):
        super().__init__(request)
        self.limit = max_bytes() if limit is None else limit
        self.received = 0
        self.too_large = False

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data  # to the next handler (memory, or a temporary file past 2.5 MB)

    def file_complete(self, file_size):
        return None  # the next handler makes the file
