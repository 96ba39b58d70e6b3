"""The machine's physical limits, measured in the same run as the latencies they bound.

* compute: GMAC/s of a float32 matrix product on one thread (what the descriptor's
  convolutions could reach at best);
* memory: GB/s of reading a 512 MB array (what an exact scan could reach at best);
* the descriptor's multiply-adds, counted by hooks on its convolutions and linear layers;
* recall@10 of the portal's index against FAISS's exact flat search.
"""

import time

import faiss
import numpy as np
import torch


def matmul_gmacs(size: int = 1024, repeats: int = 5) -> float:
    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((size, size), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return size ** 3 / best / 1e9


def memory_gbs(megabytes: int = 512, repeats: int = 5) -> float:
    data = np.ones(megabytes * 1024 * 1024 // 8, dtype=np.float64)
    data.sum()
    best = min(_timed(data.sum) for _ in range(repeats))
    return data.nbytes / best / 1e9


def descriptor_macs(descriptor) -> int:
    """Multiply-adds of one query's descriptor (both views: the image and its mirror)."""
    macs = []

    def conv(module, inputs, output):
        kernel = module.weight.shape[1] * module.weight.shape[2] * module.weight.shape[3]
        macs.append(output.numel() * kernel)

    def linear(module, inputs, output):
        macs.append(output.numel() * module.in_features)

    # The network that serves, batch norm folded (the same multiply-adds), run eagerly: the
    # frozen TorchScript graph it serves with has no module hooks to count with.
    from retrieval.engine.descriptors.cnn import pooled_features
    from retrieval.engine.nets.inference import InferenceFeatures

    served = InferenceFeatures(descriptor.net, script=False)
    hooks = [m.register_forward_hook(conv if isinstance(m, torch.nn.Conv2d) else linear)
             for m in served.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    first = next(m for m in served.modules() if isinstance(m, torch.nn.Conv2d))
    try:
        size = descriptor.input_size
        with torch.inference_mode():
            pooled_features(descriptor.net, torch.zeros(1, first.in_channels, size, size), served)
    finally:
        for hook in hooks:
            hook.remove()
    return int(sum(macs))


def recall_at_k(index, queries: np.ndarray, k: int = 10) -> dict:
    """Share of FAISS's exact top k that the portal's index search returns, per metric."""
    vectors = index._vectors
    out = {}
    for metric in ("l2", "cosine"):
        exact = faiss.IndexFlatL2(index.dim) if metric == "l2" else faiss.IndexFlatIP(index.dim)
        base, q = vectors.copy(), np.ascontiguousarray(queries, dtype=np.float32).copy()
        if metric == "cosine":
            faiss.normalize_L2(base)
            faiss.normalize_L2(q)
        exact.add(base)
        truth = index.ids[exact.search(q, k)[1]]
        found = np.stack([index.search(row[None], k, metric).ids[0] for row in queries])
        out[metric] = round(float(np.mean([len(set(a) & set(b)) / k for a, b in zip(truth, found, strict=True)])), 4)
    return out


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started
