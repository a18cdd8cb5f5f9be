"""Files for the checks' tests, made in memory."""

import io
import struct
import zlib

from PIL import Image


def jpeg(size=(40, 20), color="red", exif=None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", **({"exif": exif.tobytes()} if exif is not None else {}))
    return out.getvalue()


def png(size=(30, 30), mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def phone_photo_exif():
    """What a phone writes: its maker, the orientation (rotate 90°) and where the photo was taken."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (16.0, 4.0, 30.0), 3: "E", 4: (108.0, 13.0, 12.0)}
    return exif


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims `width` x `height` (grey, 8 bits): a decompression
    bomb's header. Its few hundred bytes of data would inflate to width*height bytes."""
    rows = zlib.compress(b"\x00" * (width + 1) * 8, 9)  # the first rows only: decoding would ask for more
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
