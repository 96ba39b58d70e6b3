"""DescriptorTrainConfig validation and round-tripping; device resolution."""

import dataclasses

import pytest
import torch

from retrieval.engine.config import DescriptorTrainConfig, config_errors
from retrieval.engine.devices import faiss_has_gpu, resolve_device

NO_GPU = not torch.cuda.is_available()


@pytest.mark.parametrize("kwargs, fragment", [
    ({"epochs": -1}, "epochs must be at least 1"),
    ({"epochs": 0}, "epochs must be at least 1"),
    ({"batch_size": 0}, "batch size must be at least 1"),
    ({"lr": 0.0}, "learning rate must be positive"),
    ({"lr": float("nan")}, "learning rate must be positive"),
    ({"weight_decay": -0.1}, "weight decay cannot be negative"),
    ({"label_smoothing": 1.0}, "label smoothing"),
    ({"label_smoothing": -0.1}, "label smoothing"),
    ({"subset": 9}, "subset must hold at least 10"),
    ({"device": "tpu"}, "unknown device 'tpu'"),
    ({"arch": "vgg99"}, "unknown architecture 'vgg99'"),
])
def test_invalid_values_are_rejected(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        DescriptorTrainConfig(**kwargs)


def test_unknown_arch_message_lists_choices():
    with pytest.raises(ValueError) as info:
        DescriptorTrainConfig(arch="vgg99")
    assert "fmnist_cnn" in str(info.value) and "resnet34_gap" in str(info.value)


def test_all_problems_are_reported_together():
    with pytest.raises(ValueError) as info:
        DescriptorTrainConfig(epochs=0, batch_size=0, device="tpu")
    message = str(info.value)
    assert message.count("; ") == 2
    assert "epochs" in message and "batch size" in message and "device" in message


def test_cuda_without_gpu_is_rejected():
    if not NO_GPU:
        assert DescriptorTrainConfig(device="cuda").device == "cuda"
        return
    with pytest.raises(ValueError, match="GPU"):
        DescriptorTrainConfig(device="cuda")


def test_defaults_and_boundaries_are_valid():
    config = DescriptorTrainConfig()
    assert config_errors(config) == []
    DescriptorTrainConfig(epochs=1, batch_size=1, subset=10, label_smoothing=0.0, weight_decay=0.0, device="cpu")
    DescriptorTrainConfig(arch="resnet34_gap", subset=None)


def test_round_trip_through_dict():
    config = DescriptorTrainConfig(arch="fmnist_cnn", epochs=3, batch_size=32, lr=1e-3, subset=500,
                                   augment=False, seed=7, device="cpu", eval_queries=100)
    values = config.to_dict()
    assert values["epochs"] == 3 and values["subset"] == 500 and values["augment"] is False
    assert DescriptorTrainConfig.from_dict(values) == config


def test_from_dict_ignores_unknown_keys_and_still_validates():
    config = DescriptorTrainConfig.from_dict({"epochs": 2, "legacy_option": True})
    assert config.epochs == 2 and config.batch_size == DescriptorTrainConfig().batch_size
    with pytest.raises(ValueError):
        DescriptorTrainConfig.from_dict({"epochs": 0})


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DescriptorTrainConfig().epochs = 5


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cuda" if not NO_GPU else "cpu")
    if NO_GPU:
        with pytest.raises(ValueError, match="GPU"):
            resolve_device("cuda")
    else:
        assert resolve_device("cuda").type == "cuda"


def test_faiss_has_gpu_is_a_bool():
    assert isinstance(faiss_has_gpu(), bool)
