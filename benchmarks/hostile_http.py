"""Hostile requests as they go over the wire, for benchmarks/fuzz_serve.py and its test: each a
whole HTTP request (route, content type, body) built by hand, so that file names, content types
and the multipart framing can be as wrong as someone trying to break the service makes them, and
sent over a plain connection, so that a body can also arrive slowly or not at all."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass


@dataclass
class Case:
    kind: str  # what the request is, for the report
    route: str
    content_type: str  # the request's header
    body: bytes
    pause_s: float = 0.0  # > 0: the body is sent in 8 pieces this far apart (a slow upload)
    declared: int | None = None  # a Content-Length other than the body's (None: the true length)
    expect: frozenset[int] = frozenset()  # the statuses that count as right; empty: any but a 5xx


@dataclass
class Answer:
    kind: str
    route: str
    status: int | None  # None: no answer in time (a hang) or the connection was dropped
    seconds: float
    error: str = ""  # the answer's `error` field, or why there was no answer


def form(field: str, files: list[tuple[bytes, str, bytes]], boundary: str = "fuzzboundary") -> tuple[bytes, str]:
    """A multipart/form-data body of (filename, content type, data) parts in one field."""
    parts = [
        b"--"
        + boundary.encode()
        + b'\r\nContent-Disposition: form-data; name="'
        + field.encode()
        + b'"; filename="'
        + name
        + b'"\r\nContent-Type: '
        + ctype.encode()
        + b"\r\n\r\n"
        + data
        + b"\r\n"
        for name, ctype, data in files
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def send(host: str, port: int, case: Case, timeout_s: float) -> Answer:
    """One request; its status, or None when nothing came back within timeout_s."""
    start = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        conn.putrequest("POST", case.route, skip_accept_encoding=True)
        conn.putheader("Content-Type", case.content_type)
        conn.putheader("Content-Length", str(len(case.body) if case.declared is None else case.declared))
        conn.endheaders()
        if case.pause_s > 0:
            step = max(len(case.body) // 8, 1)
            for i in range(0, len(case.body), step):
                conn.send(case.body[i : i + step])
                time.sleep(case.pause_s)
        else:
            conn.send(case.body)
        response = conn.getresponse()
        payload = response.read()
        try:
            error = str(json.loads(payload).get("error", "")) if response.status >= 400 else ""
        except ValueError:
            error = payload[:200].decode("utf-8", "replace")
        return Answer(case.kind, case.route, response.status, time.monotonic() - start, error)
    except (TimeoutError, OSError, http.client.HTTPException) as err:
        # The server may close a connection whose body it refused before reading it all; then
        # the answer it sent first is still there to read.
        status = _answer_already_sent(conn)
        return Answer(case.kind, case.route, status, time.monotonic() - start, "" if status else repr(err))
    finally:
        conn.close()


def _answer_already_sent(conn: http.client.HTTPConnection) -> int | None:
    try:
        conn.sock.settimeout(1)
        head = conn.sock.recv(4096)
        return int(head.split(b"\r\n", 1)[0].split()[1]) if head.startswith(b"HTTP/1.1 ") else None
    except (AttributeError, OSError, IndexError, ValueError):
        return None
