"""Search latency, indexing throughput, FAISS against numpy, the HTTP round trip, throughput
with many clients, and the ratios of the measured times to this machine's physical limits.

    .venv/bin/python bench/search_latency.py [--queries 1000] [--http-requests 300] [--clients 20]
                                             [--servers 1] [--threads 1] [--skip-indexing] [--json]

Needs the Fashion-MNIST gallery imported and indexed for the serving checkpoint
(`manage.py migrate && manage.py setup_demo`). Prints one JSON object on stdout (indented
unless --json); progress goes to stderr. bench/README.md explains the numbers.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")

import django  # noqa: E402

django.setup()

import faiss  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from PIL import Image  # noqa: E402

from bench import limits  # noqa: E402
from bench.common import log, summarise  # noqa: E402
from bench.servers import daphne_servers  # noqa: E402
from bench.throughput import throughput  # noqa: E402
from retrieval.core.results import explain_hits  # noqa: E402
from retrieval.core.runtime import engine, serving_pair  # noqa: E402
from retrieval.engine.data import fashion_mnist  # noqa: E402
from retrieval.engine.images import encode_png  # noqa: E402
from retrieval.galleries.services import index_rebuild  # noqa: E402
from retrieval.models import Gallery  # noqa: E402

TARGET_SERVER_P50_MS = 4.0
TARGET_HTTP_P50_MS = 15.0
TARGET_SEARCHES_PER_S = 100.0
TARGET_P99_MS = 300.0


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
        faiss.omp_set_num_threads(args.threads)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)  # torch and FAISS in the daphne subprocess read it
    slug = settings.RETRIEVAL["DEFAULT_GALLERY"]
    report = {"machine": machine_info(), "settings": os.environ["DJANGO_SETTINGS_MODULE"], "debug": settings.DEBUG}
    pair = serving_pair(slug)
    graph_s = 0.0
    if not args.exact:  # as the server does, in its background thread (here before measuring)
        started = time.perf_counter()
        pair.index.build_graphs()
        graph_s = time.perf_counter() - started
    report["serving"] = {"gallery": slug, "items": len(pair.index), "dim": pair.index.dim,
                         "checkpoint": pair.checkpoint_path, "checkpoint_id": pair.checkpoint_id,
                         "search": pair.index.search_method, "graph_build_s": round(graph_s, 2)}
    images, pngs = query_pngs(args.queries)
    log(f"server-side latency: {len(pngs)} queries against {len(pair.index)} items")
    server = server_latency(slug, pngs, k=args.k, metric=args.metric)
    report["server_side"] = with_target(server, server["ms"]["total"]["p50"], TARGET_SERVER_P50_MS)
    log("physical limits: matmul GMAC/s, memory GB/s, descriptor MACs, recall of the index")
    report["limits"] = attempt(physical_limits, pair, server, pair.descriptor.describe_arrays(images))
    log("faiss flat against numpy brute force")
    report["faiss_vs_numpy"] = attempt(faiss_vs_numpy, Path(pair.index_path), pair.descriptor.describe_arrays(images), k=args.k)
    if args.http_requests or args.clients:
        report.update(attempt(over_http, pngs, args))
    if not args.skip_indexing:  # last: it leaves this process serving a temporary index
        log("indexing throughput (describe every gallery file, build, save to a temporary folder)")
        report["indexing"] = attempt(indexing_throughput, slug, Path(pair.checkpoint_path))
    report["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))


def attempt(section, *args, **kwargs) -> dict:
    """A section's result, or its error: one failing part must not lose the others' numbers."""
    try:
        return section(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - reported in the JSON, with its type
        log(f"{section.__name__} failed: {type(error).__name__}: {error}")
        return {"error": f"{type(error).__name__}: {error}"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=1000, help="distinct Fashion-MNIST test images (PNG bytes)")
    parser.add_argument("--http-requests", type=int, default=300, help="searches POSTed over HTTP (0: skip)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--metric", choices=("l2", "cosine"), default="l2")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for torch and FAISS, here and in each server (default 1: one core, as served)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients for the throughput run (0: skip)")
    parser.add_argument("--throughput-s", type=float, default=20.0, help="how long the throughput run lasts")
    parser.add_argument("--servers", type=int, default=1, help="daphne processes behind the one port")
    parser.add_argument("--exact", action="store_true",
                        help="exact scans only (PORTAL_EXACT_SEARCH=1), no HNSW graph, here and in the servers")
    parser.add_argument("--skip-indexing", action="store_true", help="skip the (minutes long) indexing run")
    parser.add_argument("--json", action="store_true", help="print the report on one line")
    return parser.parse_args()


def machine_info() -> dict:
    return {
        "cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)), "cpu_model": cpu_model(),
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "faiss": faiss.__version__,
        "faiss_threads": faiss.omp_get_max_threads(), "numpy": np.__version__, "python": platform.python_version(),
        "device": str(engine().device), "faiss_gpu": engine().faiss_gpu,
        # Other work on the machine shows here; latencies measured under load are not comparable.
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.processor())


def query_pngs(count: int) -> tuple[np.ndarray, list[bytes]]:
    """The first ``count`` test images, and their PNG bytes as the gallery import writes them."""
    images, _ = fashion_mnist.load_split(settings.RETRIEVAL["FASHION_MNIST_DIR"], "test", limit=count)
    return images, [encode_png(Image.fromarray(pixels, "L")) for pixels in images]


def with_target(section: dict, p50_ms: float, target_ms: float) -> dict:
    """The section with its target and whether the measured p50 meets it (a miss is reported, never hidden)."""
    return {**section, "target": {"p50_ms": target_ms, "met": bool(p50_ms <= target_ms)}}


# --- one query, server side: decode + describe + FAISS search ---------------------------

def server_latency(slug: str, pngs: list[bytes], *, k: int, metric: str, warmup: int = 20) -> dict:
    """``Runtime.search_bytes`` on the serving pair, as the search service calls it, per stage,
    then the histogram explanations of its k hits (``explain_hits``, rows read from the database)."""
    runtime, max_pixels = engine(), settings.RETRIEVAL["MAX_PIXELS"]
    gallery = Gallery.objects.get(slug=slug)
    for data in pngs[:warmup]:  # the first calls pay for lazy allocations in torch and FAISS
        result = runtime.search_bytes(slug, data, k=k, metric=metric, max_pixels=max_pixels)
        list(explain_hits(result.decoded.image, result.hits, gallery))
    stages = {"decode": [], "describe": [], "search": [], "histograms": [], "total": []}
    for data in pngs:
        started = time.perf_counter()
        result = runtime.search_bytes(slug, data, k=k, metric=metric, max_pixels=max_pixels)
        searched = time.perf_counter()
        list(explain_hits(result.decoded.image, result.hits, gallery))
        stages["histograms"].append((time.perf_counter() - searched) * 1000)
        stages["total"].append((time.perf_counter() - started) * 1000)
        for stage in ("decode", "describe", "search"):
            stages[stage].append(result.timings_ms[stage])
    return {"queries": len(pngs), "k": k, "metric": metric, "ms": {stage: summarise(v) for stage, v in stages.items()}}


# --- the machine's limits, and how close the stages come ---------------------------------

def physical_limits(pair, server: dict, queries: np.ndarray) -> dict:
    gmacs, gbs = limits.matmul_gmacs(), limits.memory_gbs()
    macs = limits.descriptor_macs(pair.descriptor)
    n, d = len(pair.index), pair.index.dim
    ideal_describe_ms = macs / (gmacs * 1e9) * 1000
    scanned = {"float32": n * d * 4, "float16 (the scan)": n * d * 2}
    ideal_scan_ms = {name: size / (gbs * 1e9) * 1000 for name, size in scanned.items()}
    ms = server["ms"]
    return {
        "matmul_gmacs_one_thread": round(gmacs, 1), "memory_read_gbs": round(gbs, 1),
        "descriptor_macs": macs, "ideal_describe_ms": round(ideal_describe_ms, 3),
        "describe_p50_over_ideal": round(ms["describe"]["p50"] / ideal_describe_ms, 2),
        "scan_bytes": scanned, "ideal_scan_ms": {k: round(v, 3) for k, v in ideal_scan_ms.items()},
        "search_p50_over_ideal_float32_scan": round(ms["search"]["p50"] / ideal_scan_ms["float32"], 2),
        "recall_at_10_vs_exact_faiss": limits.recall_at_k(pair.index, queries[:1000]),
    }


# --- over HTTP: one client's round trip, then many clients at once ------------------------

def over_http(pngs: list[bytes], args) -> dict:
    out = {}
    env = {"PORTAL_SERVER_THREADS": str(args.threads or 1), "PORTAL_EXACT_SEARCH": "1" if args.exact else "0"}
    with daphne_servers(args.servers, env=env, probe=pngs[0], graphs=not args.exact) as (port, pids):
        out["servers"] = {"processes": args.servers, "pids": pids, "threads_each": args.threads or 1}
        if args.http_requests:
            http = http_sequential(port, pngs, requests=args.http_requests, k=args.k, metric=args.metric)
            out["http"] = with_target(http, http["ms"]["p50"], TARGET_HTTP_P50_MS)
        if args.clients:
            log(f"throughput: {args.clients} clients for {args.throughput_s:.0f} s")
            run = throughput(port, pngs, clients=args.clients, seconds=args.throughput_s, k=args.k, metric=args.metric)
            run["target"] = {"searches_per_s": TARGET_SEARCHES_PER_S, "p99_ms": TARGET_P99_MS, "errors": 0,
                             "met": bool(run["searches_per_s"] >= TARGET_SEARCHES_PER_S and not run["errors"]
                                         and (run["ms"].get("p99") or 1e9) <= TARGET_P99_MS)}
            out["throughput"] = run
    return out


def http_sequential(port: int, pngs: list[bytes], *, requests: int, k: int, metric: str, warmup: int = 10) -> dict:
    import http.client

    from bench.http_roundtrip import Endpoint, timed_posts

    conn, endpoint = http.client.HTTPConnection("127.0.0.1", port, timeout=60), Endpoint("/api/search/", "JSON API")
    times, errors = timed_posts(conn, endpoint, pngs, requests=requests, k=k, metric=metric, warmup=warmup)
    conn.close()
    return {"endpoint": "POST /api/search/", "requests": requests, "k": k, "errors": errors, "ms": summarise(times)}


# --- FAISS flat search against a numpy brute force on the same vectors ------------------

def faiss_vs_numpy(index_file: Path, queries: np.ndarray, *, k: int) -> dict:
    with np.load(index_file, allow_pickle=False) as data:
        flat = faiss.deserialize_index(data["index"])  # the serving index's own L2 flat index
    gallery = flat.reconstruct_n(0, flat.ntotal)
    gallery_sq = (gallery * gallery).sum(1)  # numpy's fair share of caching: computed once
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    single = {"faiss": [], "numpy": []}
    for row in queries:
        single["faiss"].append(timed_ms(lambda q=row[None]: flat.search(q, k)))
        single["numpy"].append(timed_ms(lambda q=row[None]: numpy_knn(gallery, gallery_sq, q, k)))
    batch_ms = {"faiss": best_of(3, lambda: flat.search(queries, k)),
                "numpy": best_of(3, lambda: numpy_knn(gallery, gallery_sq, queries, k))}
    faiss_ids, numpy_ids = flat.search(queries, k)[1], numpy_knn(gallery, gallery_sq, queries, k)
    single_ms = {name: summarise(values) for name, values in single.items()}
    return {
        "gallery": int(flat.ntotal), "dim": int(flat.d), "queries": len(queries), "k": k, "metric": "l2",
        "single_query_ms": single_ms,
        "single_speedup_p50": round(single_ms["numpy"]["p50"] / single_ms["faiss"]["p50"], 2),
        "batch_ms": {name: round(ms, 2) for name, ms in batch_ms.items()},
        "batch_per_query_ms": {name: round(ms / len(queries), 4) for name, ms in batch_ms.items()},
        "batch_speedup": round(batch_ms["numpy"] / batch_ms["faiss"], 2),
        "same_neighbours": neighbour_agreement(faiss_ids, numpy_ids),
    }


def numpy_knn(gallery: np.ndarray, gallery_sq: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Ids of the k nearest gallery rows by L2, nearest first: |q|^2 - 2 q.g + |g|^2 and a partial sort."""
    distances = (queries * queries).sum(1)[:, None] - 2 * queries @ gallery.T + gallery_sq
    nearest = np.argpartition(distances, k - 1, axis=1)[:, :k]
    order = np.argsort(np.take_along_axis(distances, nearest, 1), axis=1, kind="stable")
    return np.take_along_axis(nearest, order, 1)


def neighbour_agreement(a: np.ndarray, b: np.ndarray) -> dict:
    """Identical ranked lists, and shared members (float rounding may swap near-equal distances)."""
    overlap = np.mean([len(set(x) & set(y)) / len(x) for x, y in zip(a, b, strict=True)])
    identical = float((a == b).all(axis=1).mean())
    return {"identical_lists": round(identical, 4), "set_overlap": round(float(overlap), 4), "all_identical": identical == 1.0}


def timed_ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def best_of(repeats: int, fn) -> float:
    return min(timed_ms(fn) for _ in range(repeats))


# --- indexing throughput: the index_rebuild service on every gallery file ---------------

def indexing_throughput(slug: str, checkpoint: Path) -> dict:
    """Run ``index_rebuild`` as `build_index --force` does, into a temporary folder, in a
    transaction rolled back afterwards: the serving index and its IndexVersion rows stay as they were.

    The service swaps the fresh index into this process's runtime (it serves that
    checkpoint); nothing outside the process sees it, and the folder is gone afterwards.
    """
    marks = {}

    def progress(done: int, total: int) -> None:
        if done >= total:
            marks["described"] = time.perf_counter()

    gallery = Gallery.objects.get(slug=slug)
    with tempfile.TemporaryDirectory() as folder, \
            override_settings(RETRIEVAL={**settings.RETRIEVAL, "INDEX_DIR": Path(folder)}), transaction.atomic():
        started = time.perf_counter()
        version = index_rebuild(gallery=gallery, checkpoint=checkpoint, force=True, progress=progress)
        finished = time.perf_counter()
        transaction.set_rollback(True)
    described = marks.get("described", finished)
    return {
        "images": version.count, "seconds": round(finished - started, 2),
        "images_per_s": round(version.count / (finished - started), 1),
        "describe_s": round(described - started, 2), "build_and_save_s": round(finished - described, 2),
        "describe_images_per_s": round(version.count / max(described - started, 1e-9), 1),
    }


if __name__ == "__main__":
    main()
