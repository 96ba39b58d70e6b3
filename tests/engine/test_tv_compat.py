"""tv_compat makes torchvision importable and its NMS operator work on CPU torch."""

import torch

from retrieval.engine import tv_compat
from retrieval.engine.tv_compat import _nms_cpu, torchvision

BOXES = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], dtype=torch.float32)


def test_import_gives_torchvision():
    assert torchvision.__name__ == "torchvision" and hasattr(torchvision, "models")
    assert isinstance(tv_compat.FALLBACK_ACTIVE, bool)


def test_nms_operator_keeps_expected_boxes():
    # boxes 0 and 1 overlap with IoU 81/119 = 0.68; box 2 is disjoint
    kept = torch.ops.torchvision.nms(BOXES, torch.tensor([0.9, 0.8, 0.7]), 0.5)
    assert kept.tolist() == [0, 2]
    kept = torch.ops.torchvision.nms(BOXES, torch.tensor([0.9, 0.8, 0.7]), 0.7)
    assert kept.tolist() == [0, 1, 2]  # IoU 0.68 is below this threshold


def test_nms_orders_by_score_and_keeps_the_better_overlapping_box():
    # (torchvision.ops.nms itself still refuses to run without the compiled extension;
    # the engine only needs the operator registered so that torchvision imports.)
    kept = torch.ops.torchvision.nms(BOXES, torch.tensor([0.5, 0.8, 0.9]), 0.5)
    assert kept.tolist() == [2, 1]


def test_fallback_kernel_agrees_with_the_operator():
    scores = torch.tensor([0.3, 0.8, 0.6])
    assert _nms_cpu(BOXES, scores, 0.5).tolist() == torch.ops.torchvision.nms(BOXES, scores, 0.5).tolist() == [1, 2]
    assert _nms_cpu(BOXES[:0], scores[:0], 0.5).tolist() == []


def test_resnet_builds_through_torchvision():
    net = torchvision.models.resnet18(weights=None, num_classes=3).eval()
    with torch.inference_mode():
        assert net(torch.zeros(1, 3, 32, 32)).shape == (1, 3)
