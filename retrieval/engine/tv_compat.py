"""Make ``import torchvision`` work next to the CPU build of torch.

Every torchvision wheel on the registry is a CUDA build whose compiled ops (``_C.so``)
cannot load against CPU torch; torchvision then fails at import because it registers
fake kernels for ``torchvision::nms`` and ``torchvision::qnms``, which do not exist.
Before torchvision is imported, and only when its compiled ops cannot load, this module
defines those two operators with pure-torch CPU kernels. Where the compiled ops load
(CUDA machines), it does nothing. Import it instead of torchvision:
``from retrieval.engine.tv_compat import torchvision``.
"""

import importlib.util
from pathlib import Path

import torch


def _compiled_ops_load() -> bool:
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return False
    for candidate in Path(next(iter(spec.submodule_search_locations))).glob("_C*.so"):
        try:
            torch.ops.load_library(str(candidate))
            return True
        except (OSError, RuntimeError):
            return False
    return False


def _box_iou(boxes: torch.Tensor) -> torch.Tensor:
    area = (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)
    top_left = torch.max(boxes[:, None, :2], boxes[None, :, :2])
    bottom_right = torch.min(boxes[:, None, 2:], boxes[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area[:, None] + area[None, :] - inter).clamp(min=torch.finfo(boxes.dtype).eps)


def _nms_cpu(dets: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression: indices of kept boxes, by decreasing score."""
    order = torch.argsort(scores, descending=True)
    iou = _box_iou(dets[order].float())
    suppressed = torch.zeros(len(order), dtype=torch.bool)
    keep = []
    for i in range(len(order)):
        if not suppressed[i]:
            keep.append(i)
            suppressed |= iou[i] > iou_threshold
    return order[torch.tensor(keep, dtype=torch.long)]


def _register_fallback() -> None:
    library = torch.library.Library("torchvision", "DEF")  # noqa: TOR901 (kept alive below)
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.impl("nms", _nms_cpu, "CPU")
    library.impl("qnms", _nms_cpu, "CPU")
    _LIBRARIES.append(library)


_LIBRARIES: list = []
FALLBACK_ACTIVE = not _compiled_ops_load()
if FALLBACK_ACTIVE:
    _register_fallback()

import torchvision  # noqa: E402  (must follow the fallback registration)

__all__ = ["torchvision", "FALLBACK_ACTIVE"]
