"""Searches per second with many clients at once, each on its own kept-alive connection."""

import http.client
import threading
import time

import numpy as np

from bench.common import summarise
from bench.http_roundtrip import Endpoint, post_search

API = Endpoint("/api/search/", "JSON API")


def throughput(port: int, pngs: list[bytes], *, clients: int = 20, seconds: float = 20.0, k: int = 10,
               metric: str = "l2") -> dict:
    times: list[float] = []
    errors: dict[str, int] = {}
    lock, stop = threading.Lock(), threading.Event()

    def client(offset: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i = offset
        while not stop.is_set():
            started = time.perf_counter()
            try:
                status, _ = post_search(conn, API, pngs[i % len(pngs)], k=k, metric=metric)
            except OSError as error:
                status = type(error).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status == 200:
                    times.append(elapsed)
                else:
                    errors[str(status)] = errors.get(str(status), 0) + 1
            i += clients
        conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    summary = summarise(times)
    summary["p99"] = round(float(np.percentile(times, 99)), 3) if times else None
    return {"clients": clients, "seconds": round(elapsed, 1), "searches": len(times),
            "searches_per_s": round(len(times) / elapsed, 1), "errors": errors, "ms": summary}
