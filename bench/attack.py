"""Attack a running portal on loopback the way issue 10 did, and print one JSON object.

    .venv/bin/python bench/attack.py [--json]                  # starts its own daphne server
    .venv/bin/python bench/attack.py --port 8000 --pid PID      # or targets one (PID: for its memory)

Attacks, each with its target: a 36-megapixel flat PNG with k=100 (<= 1 s); a 40000x1 PNG
(<= 0.5 s); ten 36-megapixel PNGs at once (all answered within 10 s, peak RSS growth of the
server <= 1 GB); fifty 9.9 MB uploads at once (peak RSS growth <= 1.5 GB, and a small search
issued meanwhile answered within 2 s). "Answered" means any reply that is not a 5xx other
than 503 (a 503 with Retry-After is the admission limit refusing work it cannot take on).
Needs the gallery imported and indexed (`make setup`).
"""

import argparse
import http.client
import io
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from bench.common import log  # noqa: E402
from bench.http_roundtrip import Endpoint, post_search  # noqa: E402
from bench.servers import daphne_servers, rss_bytes  # noqa: E402

API = Endpoint("/api/search/", "JSON API")
GB = 1024 ** 3


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def flat_36mp() -> bytes:
    return png(Image.new("RGB", (6000, 6000), (180, 90, 40)))


def noisy_upload(size: int = 9_900_000) -> bytes:
    """A PNG of random pixels (incompressible) of about ``size`` bytes."""
    side = int((size / 3) ** 0.5)
    data = png(Image.fromarray(np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)))
    return data


def small_query() -> bytes:
    return png(Image.fromarray(np.random.default_rng(1).integers(0, 256, (28, 28), dtype=np.uint8), "L"))


def search(port: int, data: bytes, k: int = 10, timeout: float = 120) -> tuple[int, float, str]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        status, _ = post_search(conn, API, data, k=k, metric="l2")
    except OSError as error:
        return 0, time.perf_counter() - started, type(error).__name__
    finally:
        conn.close()
    return status, time.perf_counter() - started, ""


class RssSampler:
    """Peak resident memory of the server processes while a block runs (every 10 ms)."""

    def __init__(self, pids: list[int]):
        self.pids, self.peak, self._stop = pids, 0, threading.Event()
        self.baseline = self.now()

    def now(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.01)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())

    def growth_gb(self) -> float:
        return round((self.peak - self.baseline) / GB, 3)


def concurrently(port: int, bodies: list[bytes], k: int = 10) -> list[tuple[int, float, str]]:
    results = [None] * len(bodies)

    def one(i):
        results[i] = search(port, bodies[i], k=k)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def statuses(results) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status, _, error in results:
        key = error or str(status)
        counts[key] = counts.get(key, 0) + 1
    return counts


def answered(results) -> bool:
    """No connection errors and no 5xx other than the admission limit's 503."""
    return all(status and (status < 500 or status == 503) for status, _, _ in results)


def verdict(value: float, target: float, ok: bool = True) -> dict:
    return {"value": round(value, 3), "target": target, "met": bool(ok and value <= target)}


def attack_single(port: int, data: bytes, k: int, target_s: float) -> dict:
    status, seconds, error = search(port, data, k=k)
    return {"status": status or error, **verdict(seconds, target_s, status == 200)}


def attack_ten_36mp(port: int, pids: list[int], data: bytes) -> dict:
    with RssSampler(pids) as rss:
        started = time.perf_counter()
        results = concurrently(port, [data] * 10, k=100)
        seconds = time.perf_counter() - started
    return {"statuses": statuses(results), "all_answered_s": verdict(seconds, 10.0, answered(results)),
            "peak_rss_growth_gb": verdict(rss.growth_gb(), 1.0), "rss_baseline_gb": round(rss.baseline / GB, 3)}


def attack_fifty_uploads(port: int, pids: list[int], upload: bytes, small: bytes) -> dict:
    meanwhile = {}

    def small_search():
        time.sleep(0.5)  # once the uploads are arriving
        meanwhile["result"] = search(port, small, k=10)

    with RssSampler(pids) as rss:
        side = threading.Thread(target=small_search)
        side.start()
        started = time.perf_counter()
        results = concurrently(port, [upload] * 50)
        seconds = time.perf_counter() - started
        side.join()
    time.sleep(3)
    after = rss.now()
    status, small_s, _ = meanwhile["result"]
    return {"upload_bytes": len(upload), "statuses": statuses(results), "all_answered": answered(results),
            "seconds": round(seconds, 2), "peak_rss_growth_gb": verdict(rss.growth_gb(), 1.5),
            "small_search_meanwhile_s": {**verdict(small_s, 2.0, status == 200), "status": status},
            "rss_3s_after_gb": round(after / GB, 3), "rss_baseline_gb": round(rss.baseline / GB, 3)}


def run(port: int, pids: list[int]) -> dict:
    big, thin, small = flat_36mp(), png(Image.new("L", (40000, 1), 128)), small_query()
    report = {"loadavg_start": [round(x, 2) for x in os.getloadavg()], "server_pids": pids}
    log("36 MP flat PNG, k=100")
    report["flat_36mp_k100_s"] = attack_single(port, big, 100, 1.0)
    log("40000x1 PNG")
    report["thin_40000x1_s"] = attack_single(port, thin, 10, 0.5)
    log("ten 36 MP PNGs at once")
    report["ten_36mp_concurrent"] = attack_ten_36mp(port, pids, big)
    log("fifty 9.9 MB uploads at once, and a small search meanwhile")
    report["fifty_uploads_concurrent"] = attack_fifty_uploads(port, pids, noisy_upload(), small)
    report["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    report["all_met"] = all(_met(value) for value in report.values() if isinstance(value, dict))
    return report


def _met(section: dict) -> bool:
    return all(v["met"] for v in section.values() if isinstance(v, dict) and "met" in v) and \
        section.get("met", True) and section.get("all_answered", True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, help="attack the server already on this loopback port")
    parser.add_argument("--pid", type=int, action="append", default=[], help="its process id(s), for memory")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.port:
        report = run(args.port, args.pid)
    else:
        with daphne_servers(1, probe=small_query()) as (port, pids):
            report = run(port, pids)
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
