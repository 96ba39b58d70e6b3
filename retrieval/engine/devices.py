"""Where computation runs: CUDA when torch sees a GPU, else the CPU; FAISS on the GPU when
the installed faiss has GPU support."""

import faiss
import torch


def resolve_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise ValueError("a GPU (cuda) was asked for, but torch sees none on this machine")
    return torch.device(requested)


def set_compute_threads(count: int) -> None:
    """Threads torch and FAISS use in this process. A server answers one query per request
    from many requests at once: with one thread each, torch's and FAISS's pools stop
    contending on a small CPU (measured on 2 cores: query p50 8.5 ms -> 4.6 ms)."""
    torch.set_num_threads(count)
    faiss.omp_set_num_threads(count)


def faiss_has_gpu() -> bool:
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0
