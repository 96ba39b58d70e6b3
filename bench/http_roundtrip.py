"""The HTTP round trip of a search against a real daphne server on loopback.

The server runs as a subprocess with the caller's environment (so the same settings
module), and answers multipart POSTs at /api/search/; where that API is not there yet,
the search page's form at / is posted instead, with its CSRF token, as htmx posts it.
"""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ROOT, log, summarise

API_PATH = "/api/search/"
FORM_PATH = "/"
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')


@dataclass
class Endpoint:
    path: str
    description: str
    fields: dict[str, str] = field(default_factory=dict)  # extra form fields (the CSRF token)
    headers: dict[str, str] = field(default_factory=dict)


def http_roundtrip(pngs: list[bytes], *, requests: int, k: int, metric: str, warmup: int = 10) -> dict:
    """Start daphne, POST ``requests`` searches (cycling through ``pngs``), stop it; times in ms."""
    with daphne_server() as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        endpoint, probe_status = choose_endpoint(conn, pngs[0], k=k, metric=metric)
        log(f"http: POST {endpoint.path} via {endpoint.description}, {requests} requests")
        times, errors = timed_posts(conn, endpoint, pngs, requests=requests, k=k, metric=metric, warmup=warmup)
        conn.close()
    summary = summarise(times)
    return {"endpoint": f"POST {endpoint.path}", "via": endpoint.description, "api_probe_status": probe_status,
            "requests": requests, "k": k, "metric": metric, "errors": errors, "ms": summary}


def timed_posts(conn, endpoint, pngs: list[bytes], *, requests: int, k: int, metric: str,
                warmup: int) -> tuple[list[float], dict[str, int]]:
    """POST ``requests`` searches one after another (cycling through ``pngs``) after ``warmup``
    untimed ones; the times in ms and the count of each non-200 status."""
    for i in range(warmup):  # first requests pay for template compilation and DB connections
        post_search(conn, endpoint, pngs[i % len(pngs)], k=k, metric=metric)
    times, errors = [], {}
    for i in range(requests):
        started = time.perf_counter()
        status, _ = post_search(conn, endpoint, pngs[i % len(pngs)], k=k, metric=metric)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            errors[str(status)] = errors.get(str(status), 0) + 1
    return times, errors


def choose_endpoint(conn: http.client.HTTPConnection, png: bytes, *, k: int, metric: str) -> tuple[Endpoint, int]:
    """The JSON API when it answers 200, else the page form (with the CSRF cookie and token)."""
    api = Endpoint(API_PATH, "JSON API")
    deadline = time.monotonic() + 180
    status, body = post_search(conn, api, png, k=k, metric=metric)
    while status == 503 and time.monotonic() < deadline:  # the server answers at once, "warming up" until loaded
        time.sleep(1)
        status, body = post_search(conn, api, png, k=k, metric=metric)
    if status == 200:
        api.description += f" ({result_count(body)} results in the probe's answer)"
        return api, status
    token, cookie = csrf_token(conn)
    return Endpoint(FORM_PATH, "search page form, htmx partial (the API did not answer 200)",
                    fields={"csrfmiddlewaretoken": token},
                    headers={"Cookie": f"csrftoken={cookie}", "HX-Request": "true"}), status


def result_count(body: bytes) -> int | str:
    """How many results the API's JSON answer lists: a check that a 200 is a real search."""
    try:
        return len(json.loads(body)["results"])
    except (ValueError, KeyError, TypeError):
        return "unknown"


def csrf_token(conn: http.client.HTTPConnection) -> tuple[str, str]:
    conn.request("GET", FORM_PATH)
    response = conn.getresponse()
    html = response.read().decode("utf-8", "replace")
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")
    token = _CSRF_INPUT.search(html)
    if response.status != 200 or not cookie or not token:
        raise RuntimeError(f"GET {FORM_PATH} gave {response.status} without a CSRF cookie and token")
    return token.group(1), cookie.group(1)


def post_search(conn: http.client.HTTPConnection, endpoint: Endpoint, png: bytes, *, k: int, metric: str) -> tuple[int, bytes]:
    body, content_type = multipart({"k": str(k), "metric": metric, **endpoint.fields}, "image", "query.png", png)
    headers = {"Content-Type": content_type, **endpoint.headers}
    try:
        conn.request("POST", endpoint.path, body=body, headers=headers)
        response = conn.getresponse()
    except (http.client.RemoteDisconnected, ConnectionError):
        conn.close()  # the server closed a kept-alive connection: one retry on a fresh one
        conn.request("POST", endpoint.path, body=body, headers=headers)
        response = conn.getresponse()
    return response.status, response.read()


def multipart(fields: dict[str, str], file_field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
                 f"Content-Type: image/png\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@contextmanager
def daphne_server(timeout_s: float = 180) -> Iterator[int]:
    """A daphne process on a free loopback port, stopped on exit whatever happens."""
    port = free_port()
    daphne = Path(sys.executable).parent / "daphne"
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen([str(daphne), "-b", "127.0.0.1", "-p", str(port), "portal.asgi:application"],
                                   cwd=ROOT, env=dict(os.environ), stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_until_answering(port, process, output, timeout_s)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_answering(port: int, process: subprocess.Popen, output, timeout_s: float) -> None:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            output.seek(0)
            raise RuntimeError(f"daphne exited with {process.returncode}:\n{output.read().decode()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", FORM_PATH)
            conn.getresponse().read()
            conn.close()
            log(f"http: daphne answering on 127.0.0.1:{port} after {time.perf_counter() - started:.1f} s")
            return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"daphne did not answer on port {port} within {timeout_s:.0f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
