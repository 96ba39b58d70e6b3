"""Daphne servers on loopback for the benchmarks: one or several processes behind one port.

Several processes share one listening socket (``daphne --fd``: the kernel hands each new
connection to one of them), which is how the README runs several server processes behind
one address without a proxy. Readiness means answering a real search with 200, not merely
accepting connections (the portal accepts at once and says "warming up" until its models load).
"""

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import ROOT, log

WS_MAX_MESSAGE = 32 * 1024 * 1024  # as the Makefile's serve target


@contextmanager
def daphne_servers(processes: int = 1, *, env: dict | None = None, timeout_s: float = 300,
                   probe: bytes | None = None, graphs: bool = False) -> Iterator[tuple[int, list[int]]]:
    """(port, server pids) of ``processes`` daphne processes on one loopback port; with
    ``graphs``, once every process answers from its HNSW graph (built after start-up)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    port = listener.getsockname()[1]
    daphne = Path(sys.executable).parent / "daphne"
    # No background index build while the benchmark measures (the server would start one when
    # the robust index is missing): build it first with `manage.py build_index --checkpoint`.
    environment = {"MALLOC_ARENA_MAX": "2", "PORTAL_BACKGROUND_INDEXES": "0", **os.environ, **(env or {})}
    outputs, servers = [], []
    try:
        for _ in range(processes):
            output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
            outputs.append(output)
            servers.append(subprocess.Popen(
                [str(daphne), "--fd", str(listener.fileno()), "--websocket-max-message-size", str(WS_MAX_MESSAGE),
                 "portal.asgi:application"], cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(),)))
        wait_until_searching(port, servers, outputs, timeout_s, probe)
        if graphs and probe is not None:
            wait_for_graphs(port, probe, processes, timeout_s)
        yield port, [s.pid for s in servers]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        listener.close()
        for output in outputs:
            output.close()


def wait_until_searching(port: int, servers, outputs, timeout_s: float, probe: bytes | None) -> None:
    from bench.http_roundtrip import Endpoint, post_search

    started = time.perf_counter()
    first_answer = None
    while time.perf_counter() - started < timeout_s:
        for server, output in zip(servers, outputs, strict=True):
            if server.poll() is not None:
                output.seek(0)
                raise RuntimeError(f"daphne exited with {server.returncode}:\n{output.read().decode()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            if probe is None:
                conn.request("GET", "/api/galleries/")
                response = conn.getresponse()
                response.read()
                status = response.status
            else:
                status, _ = post_search(conn, Endpoint("/api/search/", "probe"), probe, k=1, metric="l2")
            conn.close()
            first_answer = first_answer or time.perf_counter() - started
            if status == 200:
                log(f"daphne x{len(servers)} on 127.0.0.1:{port}: first answer after {first_answer:.1f} s, "
                    f"searching after {time.perf_counter() - started:.1f} s")
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"daphne did not answer a search on port {port} within {timeout_s:.0f} s")


def wait_for_graphs(port: int, probe: bytes, processes: int, timeout_s: float) -> None:
    """Until ``4 x processes`` answers in a row say ``"search": "hnsw"`` (each new connection
    may reach any process)."""
    import json

    from bench.http_roundtrip import Endpoint, post_search

    started, in_a_row = time.perf_counter(), 0
    while in_a_row < 4 * processes:
        if time.perf_counter() - started > timeout_s:
            raise RuntimeError(f"the servers did not answer from their HNSW graphs within {timeout_s:.0f} s")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        status, body = post_search(conn, Endpoint("/api/search/", "probe"), probe, k=1, metric="l2")
        conn.close()
        in_a_row = in_a_row + 1 if status == 200 and json.loads(body).get("search") == "hnsw" else 0
        if not in_a_row:
            time.sleep(0.5)
    log(f"every server answers from its HNSW graph after {time.perf_counter() - started:.1f} s more")


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (Linux /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
