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


def faiss_has_gpu() -> bool:
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0
