"""Images and files: citizens sending them to the OA, the OA uploading article covers, and the URLs.

Zalo hands the portal CDN URLs (``message.attachments[].payload.url``) that expire; the fake keeps the
bytes in memory and serves them itself at ``<fake base URL>/_fake/media/<id>/<name>``, so the portal
can fetch what a citizen sent exactly as it would fetch Zalo's CDN. Events (docs/zalo-api.md):

``user_send_image``  ``message.attachments[{"type":"image","payload":{"url","thumbnail"}}]``
``user_send_file``   ``message.attachments[{"type":"file","payload":{"url","name","size","checksum","type"}}]``

``POST /v2.0/article/upload_image`` (multipart ``file``, an image ≤ 1 MB) → ``data.url``: a cover photo
the fake can serve (the answer's shape is the fake's choice [?]).
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .protocol import Request, Response, _Answer, _ms, _new_id, _ok

if TYPE_CHECKING:
    from .records import OA, Citizen

MAX_IMAGE = 1024 * 1024  # article cover upload limit (Zalo's is reported as 1 MB [?])
MAX_MEDIA = 5 * 1024 * 1024  # what a citizen may send through the fake
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


def sample_png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (0, 104, 255)) -> bytes:
    """A small valid PNG of one colour (what the phone page sends when no image is chosen)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def parse_multipart(req: Request) -> dict[str, tuple[str, str, bytes]]:
    """``multipart/form-data`` body → ``{field: (filename, content_type, bytes)}`` (plain fields: filename "")."""
    content_type = req.headers.get("content-type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        raise _Answer(-201, "Tham số không hợp lệ: cần multipart/form-data")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + req.body
    )
    fields: dict[str, tuple[str, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True) or b""
            fields[str(name)] = (part.get_filename() or "", part.get_content_type(), payload)
    return fields


class MediaMixin:
    """Media of :class:`~fakezalo.state.FakeZalo`: ``self.media`` maps an id to its bytes and type."""

    def store_media(self, content: bytes, content_type: str, name: str) -> dict[str, Any]:
        if len(content) > MAX_MEDIA:
            raise ValueError(f"media larger than {MAX_MEDIA} bytes")
        media_id = _new_id()
        safe_name = name.replace("/", "_").replace("\\", "_") or "tep"
        with self._lock:
            self.media[media_id] = {"content": bytes(content), "content_type": content_type, "name": safe_name}
        return {
            "id": media_id,
            "url": f"{self.base_url}/_fake/media/{media_id}/{quote(safe_name)}",
            "size": len(content),
            "checksum": hashlib.md5(content, usedforsecurity=False).hexdigest(),
        }

    def send_image(
        self,
        user_id: str,
        content: bytes | None = None,
        content_type: str = "image/png",
        name: str = "anh.png",
        oa_id: str | None = None,
        sync: bool = False,
    ) -> dict[str, Any]:
        """The citizen sends a photo to the OA: signed ``user_send_image`` with a URL the fake serves."""
        if content_type not in IMAGE_TYPES:
            raise ValueError(f"not an image type: {content_type}")
        stored = self.store_media(content if content is not None else sample_png(), content_type, name)
        payload = {"url": stored["url"], "thumbnail": stored["url"]}
        return self._send_attachment(user_id, oa_id, "user_send_image", "image", payload, f"[Ảnh] {name}", sync)

    def send_file(
        self,
        user_id: str,
        content: bytes,
        name: str,
        content_type: str = "application/octet-stream",
        oa_id: str | None = None,
        sync: bool = False,
    ) -> dict[str, Any]:
        """The citizen sends a file to the OA: signed ``user_send_file`` (url, name, size, checksum)."""
        stored = self.store_media(content, content_type, name)
        payload = {
            "url": stored["url"],
            "name": name,
            "size": str(stored["size"]),
            "checksum": stored["checksum"],
            "type": name.rsplit(".", 1)[-1].lower() if "." in name else "",
        }
        return self._send_attachment(user_id, oa_id, "user_send_file", "file", payload, f"[Tệp] {name}", sync)

    def _send_attachment(
        self, user_id: str, oa_id: str | None, event_name: str, kind: str, payload: dict, label: str, sync: bool
    ) -> dict[str, Any]:
        with self._lock:
            oa: OA = self._oa(oa_id)
            now = self.now()
            citizen: Citizen = self._citizen(oa.oa_id, user_id)
            self._touch(citizen, now)
            msg_id = _new_id()
            self._record(
                {
                    "kind": "in",
                    "direction": "in",
                    "oa_id": oa.oa_id,
                    "recipient": citizen.user_id,
                    "text": label,
                    "attachment": {"type": kind, **payload},
                    "msg_id": msg_id,
                    "key": None,
                }
            )
            event = {
                "app_id": oa.app_id,
                "user_id_by_app": citizen.user_id,
                "event_name": event_name,
                "sender": {"id": citizen.user_id},
                "recipient": {"id": oa.oa_id},
                "message": {"msg_id": msg_id, "text": "", "attachments": [{"type": kind, "payload": payload}]},
                "timestamp": _ms(now),
            }
        result = self._emit(oa, event, sync=sync)
        result["msg_id"] = msg_id
        return result

    def serve_media(self, path: str) -> Response:
        """``GET /_fake/media/<id>/<name>``: the bytes, or 404."""
        media_id = path.removeprefix("/_fake/media/").split("/", 1)[0]
        failed = self._media_fault()
        if failed is not None:
            return failed
        with self._lock:
            item = self.media.get(media_id)
        if item is None:
            return Response(404, b"not found", "text/plain; charset=utf-8")
        # Never rendered as a page of the fake's origin: images inline, everything else downloaded.
        headers = [("X-Content-Type-Options", "nosniff")]
        if item["content_type"] not in IMAGE_TYPES:
            headers.append(("Content-Disposition", f"attachment; filename*=UTF-8''{quote(item['name'])}"))
        return Response(200, item["content"], item["content_type"], headers)

    def _media_fault(self) -> Response | None:
        """``media_error_next``: Zalo's CDN failing a download (the portal's task must retry, once attached)."""
        with self._lock:
            if self.faults.media_error_next <= 0:
                return None
            self.faults.media_error_next -= 1
            self.fault_counts["media_error"] += 1
            status = self.faults.http_error_status
        return Response(status, b"CDN unavailable", "text/plain; charset=utf-8")

    def _article_upload_image(self, req: Request) -> Response:
        self._auth(req)
        fields = parse_multipart(req)
        if "file" not in fields:
            raise _Answer(-201, "Tham số không hợp lệ: thiếu file")
        filename, content_type, content = fields["file"]
        if content_type not in IMAGE_TYPES or not content:
            raise _Answer(-201, "Tham số không hợp lệ: chỉ nhận ảnh png, jpg, gif, webp")
        if len(content) > MAX_IMAGE:
            raise _Answer(-201, f"Ảnh lớn hơn {MAX_IMAGE // 1024} KB")
        stored = self.store_media(content, content_type, filename or f"anh.{IMAGE_TYPES[content_type]}")
        return _ok({"url": stored["url"]})

    # -- control API and phone page --------------------------------------------------------------

    def _c_send_image(self, body: dict, query: dict) -> Any:
        content = base64.b64decode(body["content_base64"]) if body.get("content_base64") else None
        return self.send_image(
            str(body["user_id"]),
            content,
            str(body.get("content_type") or "image/png"),
            str(body.get("name") or "anh.png"),
            body.get("oa_id"),
            bool(body.get("sync")),
        )

    def _c_send_file(self, body: dict, query: dict) -> Any:
        return self.send_file(
            str(body["user_id"]),
            base64.b64decode(body.get("content_base64") or ""),
            str(body["name"]),
            str(body.get("content_type") or "application/octet-stream"),
            body.get("oa_id"),
            bool(body.get("sync")),
        )

    def _ui_send_media(self, req: Request) -> dict[str, str]:
        """The phone page's "Gửi ảnh/tệp" form (multipart): an image becomes user_send_image, anything
        else user_send_file; no file chosen sends a sample photo. Returns the plain form fields."""
        fields = parse_multipart(req)
        form = {k: v[2].decode("utf-8", "replace") for k, v in fields.items() if not v[0] and k != "file"}
        user_id, oa_id = form.get("user_id", "").strip(), form.get("oa_id") or None
        if not user_id:
            return form
        filename, content_type, content = fields.get("file", ("", "", b""))
        if not filename or not content:
            self.send_image(user_id, None, oa_id=oa_id)
        elif content_type in IMAGE_TYPES:
            self.send_image(user_id, content, content_type, filename, oa_id=oa_id)
        else:
            self.send_file(user_id, content, filename, content_type, oa_id=oa_id)
        return form
