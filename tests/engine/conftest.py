"""Engine tests run beside a background training job on a small machine: one torch thread
avoids oversubscribing the cores (ResNet-34 forward passes are ~40x faster this way)."""

import pytest
import torch


@pytest.fixture(scope="package", autouse=True)
def single_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
