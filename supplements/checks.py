"""Checks a file a citizen sent before anyone opens it (issue 13).

- size: at most `SUPPLEMENT_MAX_BYTES`, counted while reading (`read_capped`), never after loading it all;
- type from the content, never the name: JPEG, PNG and WebP images, and PDF; anything else is refused;
- images are decoded by Pillow (after their declared size was checked against `SUPPLEMENT_MAX_PIXELS`:
  a decompression bomb is refused before its pixels are allocated), turned upright (EXIF orientation)
  and re-encoded from their pixels alone: EXIF, GPS position, comments and colour profiles are dropped.
  WebP becomes JPEG (PNG when it has transparency), the two image types the portal stores;
- a PDF is kept byte for byte; it is never rendered in the portal's origin (served as an attachment
  with a sandbox CSP, `supplements.views`).

A refusal is `FileRefused`, whose `.message` is the Vietnamese text to show or send the citizen.
"""

import io
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"

# Enough of the start of a file to recognise each accepted type.
SNIFF_BYTES = 16


class FileRefused(Exception):
    """A file the portal does not keep; `message` tells the citizen why, in Vietnamese."""

    def __init__(self, message, code=""):
        super().__init__(message)
        self.message = str(message)
        self.code = code


@dataclass(frozen=True)
class Checked:
    content: bytes
    content_type: str


def max_bytes() -> int:
    return settings.SUPPLEMENT_MAX_BYTES


def too_large() -> FileRefused:
    megabytes = max_bytes() / (1024 * 1024)
    shown = f"{megabytes:.0f}" if megabytes >= 1 else f"{megabytes:.1f}"
    return FileRefused(
        _("Tệp quá lớn: mỗi tệp tối đa %(size)s MB. Vui lòng chụp lại ảnh nhỏ hơn hoặc chia tệp PDF.")
        % {"size": shown},
        code="too_large",
    )


def read_capped(chunks, limit: int | None = None) -> bytes:
    """The bytes of `chunks` (an iterable of bytes: an upload's `.chunks()`, an HTTP response's
    `iter_content()`), refused as soon as they pass `limit` (default `SUPPLEMENT_MAX_BYTES`): at most
    one chunk past the limit is ever held."""
    limit = max_bytes() if limit is None else limit
    buffer = bytearray()
    for chunk in chunks:
        if len(buffer) + len(chunk) > limit:
            raise too_large()
        buffer += chunk
    return bytes(buffer)


def sniff(head: bytes) -> str:
    """The type the content says it is (JPEG, PNG, WebP, PDF), or "" for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return PDF
    return ""


def _unsupported():
    return FileRefused(
        _("Chỉ nhận ảnh chụp (JPG, PNG, WebP) hoặc tệp PDF. Tệp bạn gửi không phải một trong các loại này."),
        code="type",
    )


def _damaged():
    return FileRefused(_("Không đọc được tệp (tệp bị hỏng hoặc chưa tải xong). Vui lòng gửi lại."), code="damaged")


def _bomb():
    return FileRefused(
        _("Ảnh có kích thước điểm ảnh quá lớn, không thể nhận. Vui lòng chụp lại hoặc gửi ảnh nhỏ hơn."),
        code="pixels",
    )


def check(data: bytes, original_name: str = "") -> Checked:
    """`data` as the portal keeps it, or `FileRefused`. `original_name` is never trusted for the type."""
    if len(data) > max_bytes():
        raise too_large()
    if not data:
        raise _damaged()
    kind = sniff(data[:SNIFF_BYTES])
    if kind == PDF:
        if b"%%EOF" not in data[-2048:]:
            raise _damaged()
        return Checked(content=data, content_type=PDF)
    if not kind:
        raise _unsupported()
    return _reencode(data)


def _reencode(data: bytes) -> Checked:
    # The declared size is checked right after the header is read, before any pixel is decoded.
    # Pillow's own guard (Image.MAX_IMAGE_PIXELS, a process-wide setting left alone here) raises
    # DecompressionBombError on the largest ones already while opening: refused the same way.
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "WEBP"]) as image:
            width, height = image.size
            if width * height > settings.SUPPLEMENT_MAX_PIXELS:
                raise _bomb()
            image.load()
            source_format = image.format
            upright = ImageOps.exif_transpose(image)
    except FileRefused:
        raise
    except Image.DecompressionBombError:
        raise _bomb() from None
    except (OSError, SyntaxError, ValueError, EOFError):  # UnidentifiedImageError is an OSError
        raise _damaged() from None
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
    if source_format == "PNG" or has_alpha:
        mode = "RGBA" if has_alpha else ("L" if upright.mode in ("1", "L", "I", "I;16") else "RGB")
        content_type, save_as = PNG, {"format": "PNG", "optimize": True}
    else:
        mode = "L" if upright.mode in ("1", "L", "I", "I;16") else "RGB"
        content_type, save_as = JPEG, {"format": "JPEG", "quality": 85, "optimize": True}
    pixels = upright.convert(mode)
    # A new image from the pixels alone: nothing of the original's metadata (info, EXIF, XMP, ICC,
    # text chunks) can ride along into the saved file.
    clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    clean.save(out, **save_as)
    content = out.getvalue()
    if len(content) > max_bytes():
        raise too_large()
    return Checked(content=content, content_type=content_type)
