"""The ASGI middleware every request passes before BentoML sees it.

BentoML has no request-size setting, fetches any URL sent as a string where a file belongs, uses
the client's file name for its temporary file (a 4,000-character name was a 500) and answers
errors in two shapes. So for the upload routes this gate reads the body up to the byte limit
(413 past it) and within a time limit (408 past it: a slow upload holds a place in the queue),
accepts only multipart forms whose fields are exactly the route's file fields, each a file (400
otherwise), and hands BentoML the same files under a name of its own, without the client's suffix;
it answers 503 with Retry-After once a worker holds as many requests as its queue allows, rather
than letting the backlog and its memory grow without bound; and it rewrites every error answer
into one shape, `{"error": ..., "detail": ...}`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from http import HTTPStatus

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

log = logging.getLogger("deepfake_detect.serving")


@dataclass(frozen=True)
class Route:
    field: str  # the form field that carries the files
    max_files: int
    max_bytes: int  # the request body


@dataclass(frozen=True)
class Admission:
    """How many upload requests one API worker holds at once, and for how long each may upload."""

    max_requests: int  # in hand, uploading or being judged: 503 past it
    retry_after_s: int  # what a 503 tells the client to wait
    upload_timeout_s: float  # the whole body must arrive within this (408 past it)


class Refused(Exception):
    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# What each refusal means, for the OpenAPI page (BentoML documents 400, 404 and 500 in other shapes).
ERRORS = {
    400: "a missing, extra or repeated field, a text value where the file belongs, not multipart/form-data",
    408: "the upload did not arrive within serving.upload_timeout_s",
    413: "the body is over its byte limit, the image over max_pixels, the video over its frames or seconds",
    415: "the bytes are not an image in serving.limits.formats (a video in serving.video.containers)",
    422: "an empty, truncated or corrupt image, or one under serving.limits.min_side pixels",
    503: "the service holds serving.queue.max_requests requests: retry after Retry-After seconds",
}


class UploadGate:
    def __init__(self, app, routes: dict[str, Route], admission: Admission, error_schema: dict):
        self.app = app
        self.routes = routes
        self.admission = admission
        self.error_schema = error_schema
        self.in_hand = 0  # upload requests of this worker not yet answered (one event loop: no lock)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"] == "/docs.json":
            return await self.app(scope, receive, _buffered(send, self._documented))
        send = _one_error_shape(send, self.admission.retry_after_s)
        route = self.routes.get(scope["path"])
        if route is None or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        if self.in_hand >= self.admission.max_requests:
            log.warning("refused %s: 503, %d requests in hand", scope["path"], self.in_hand)
            message = (
                f"the detector is busy with {self.in_hand} requests, as many as it queues "
                f"(serving.queue.max_requests): retry in {self.admission.retry_after_s} s"
            )
            return await _error(send, HTTPStatus.SERVICE_UNAVAILABLE, message)
        self.in_hand += 1
        try:
            return await self._admitted(scope, receive, send, route)
        finally:
            self.in_hand -= 1

    async def _admitted(self, scope, receive, send, route: Route):
        try:
            body, content_type = await self._rewritten(scope, receive, route)
        except Refused as refused:
            log.warning("refused %s: %d %s", scope["path"], refused.status, refused.message)
            return await _error(send, refused.status, refused.message)
        headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-length", b"content-type")]
        headers += [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()  # the client's disconnect, if it comes
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app({**scope, "headers": headers}, replay, send)

    async def _rewritten(self, scope, receive, route: Route) -> tuple[bytes, bytes]:
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > route.max_bytes:
            raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, _too_large(int(declared), route.max_bytes))
        if not headers.get("content-type", "").startswith("multipart/form-data"):
            raise Refused(
                HTTPStatus.BAD_REQUEST,
                f"send the image as a file in the multipart/form-data field `{route.field}` "
                f"(curl -F {route.field}=@photo.jpg)",
            )
        try:
            files = await self._files(headers, receive, route)
        except MultiPartException as err:
            raise Refused(HTTPStatus.BAD_REQUEST, f"malformed multipart form: {err.message}") from None
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{route.field}"; filename="upload"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + data
            + b"\r\n"
            for data in files
        ]
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return body, f"multipart/form-data; boundary={boundary}".encode()

    async def _files(self, headers: Headers, receive, route: Route) -> list[bytes]:
        received = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.admission.upload_timeout_s

        async def stream():
            nonlocal received
            while True:
                try:
                    message = await asyncio.wait_for(receive(), timeout=max(deadline - loop.time(), 0.0))
                except TimeoutError:
                    raise Refused(
                        HTTPStatus.REQUEST_TIMEOUT,
                        f"the upload took over {self.admission.upload_timeout_s:g} s (serving.upload_timeout_s); "
                        "send it again, or a smaller file",
                    ) from None
                if message["type"] == "http.disconnect":
                    raise Refused(HTTPStatus.BAD_REQUEST, "the client went away before the upload ended")
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > route.max_bytes:
                    raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, _too_large(received, route.max_bytes, True))
                yield chunk
                if not message.get("more_body", False):
                    return

        # A few text fields are let through to be refused with a precise message below.
        parser = MultiPartParser(headers, stream(), max_files=route.max_files, max_fields=route.max_files + 4)
        try:
            form = await parser.parse()
        except MultiPartException as err:
            if "Too many" in err.message:
                raise Refused(
                    HTTPStatus.BAD_REQUEST,
                    f"at most {route.max_files} file(s) in `{route.field}` per request",
                ) from None
            raise
        names = sorted({name for name, _ in form.multi_items()})
        if names != [route.field]:
            found = ", ".join(f"`{n}`" for n in names) or "no field"
            raise Refused(HTTPStatus.BAD_REQUEST, f"expected the file field `{route.field}` only; found {found}")
        values = form.getlist(route.field)
        if any(not isinstance(v, UploadFile) for v in values):
            raise Refused(HTTPStatus.BAD_REQUEST, f"`{route.field}` must be a file upload, not a text value (no URLs)")
        files = [await v.read() for v in values]
        await form.close()
        return files

    def _documented(self, body: bytes) -> bytes:
        """The OpenAPI spec with this service's error answers on the upload routes."""
        spec = json.loads(body)
        spec.setdefault("components", {}).setdefault("schemas", {})["ErrorAnswer"] = self.error_schema
        answer = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorAnswer"}}}
        for route in self.routes:
            post = spec.get("paths", {}).get(route, {}).get("post")
            if post is not None:
                kept = {k: v for k, v in post.get("responses", {}).items() if str(k).startswith("2")}
                post["responses"] = {
                    **kept,
                    **{str(c): {"description": d, "content": answer} for c, d in ERRORS.items()},
                }
        return json.dumps(spec).encode()


def _too_large(size: int, limit: int, at_least: bool = False) -> str:
    return f"the request has {'over ' if at_least else ''}{size:,} bytes; the limit is {limit:,}"


async def _error(send, status: HTTPStatus, message: str, detail=None) -> None:
    body = json.dumps({"error": message, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": int(status),
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _buffered(send, rewrite):
    """A `send` that collects the body and sends `rewrite(body)` instead, with its length."""
    start, chunks = None, []

    async def wrapped(message):
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = rewrite(b"".join(chunks)) if start["status"] == 200 else b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def _one_error_shape(send, retry_after_s: int):
    """Rewrites BentoML's error bodies (a list for its own errors, `{"error", "detail"}` for
    validation, plain text elsewhere) into `{"error": ..., "detail": ...}`; a 503 says when to retry."""
    start, chunks = None, []

    async def wrapped(message):
        nonlocal start
        if message["type"] == "http.response.start" and message["status"] >= 400:
            start = message
            return
        if start is None:
            return await send(message)
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = _normalised(b"".join(chunks), start["status"])
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"content-type")]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if start["status"] == HTTPStatus.SERVICE_UNAVAILABLE:
            headers.append((b"retry-after", str(retry_after_s).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def _normalised(body: bytes, status: int) -> bytes:
    try:
        data = json.loads(body)
    except ValueError:
        data = body.decode("utf-8", "replace").strip() or HTTPStatus(status).phrase
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if isinstance(data, dict) and "error" in data:
        error, detail = str(data["error"]), data.get("detail")
    elif isinstance(data, dict) and "detail" in data:  # starlette's HTTPException
        error, detail = str(data["detail"]), None
    else:
        error, detail = str(data), None
    return json.dumps({"error": error, "detail": detail}).encode()
