"""Inference copies of descriptor networks: what serves a query, not what trains.

A query is one 28 px image, so a descriptor's time is mostly per-layer overhead, not
arithmetic. Two rewrites cut it without changing a result (beyond float rounding, about
1e-7): batch norm folded into the convolution before it (one layer instead of two), and
channels-last memory, which oneDNN's small-image convolutions run faster on this CPU
(`bench/search_latency.py` reports the describe stage against its ideal time).

The folding walks the module tree; it does not use torch.fx (fx patches ``Module.__call__``
for the whole process while it traces, which breaks searches running in other threads).

On the CPU the folded copy is then traced once per input shape with TorchScript, frozen and
optimised for inference (oneDNN convolutions with prepacked weights, ReLU fused): about a fifth
less time per query than the eager copy (``bench/search_latency.py``, describe stage).
TorchScript's tracing state is per thread, so searches in other threads run on meanwhile; a
lock keeps two threads from tracing the same shape. A network TorchScript cannot trace
serves eagerly.
"""

import copy
import logging
import threading
import warnings

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

log = logging.getLogger(__name__)


class InferenceFeatures(nn.Module):
    """``net.features`` for inference: batch norm folded, channels-last, and on the CPU a frozen
    TorchScript graph per input shape (``script=False``: eager only); never trained."""

    def __init__(self, net: nn.Module, *, script: bool = True):
        super().__init__()
        self.net = fold_batch_norm(copy.deepcopy(net).eval())
        self.net.to(memory_format=torch.channels_last)
        self.requires_grad_(False)
        self.script = script
        self._graphs: dict[tuple, object] = {}  # (channels, height, width) -> frozen graph, or None: eager
        self._tracing = threading.Lock()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        graph = self._graph(x) if self.script and x.device.type == "cpu" and len(x) else None
        return (graph(x) if graph is not None else self.net.features(x)).contiguous()

    def _graph(self, x: torch.Tensor):
        shape = tuple(x.shape[1:])
        if shape not in self._graphs:
            with self._tracing:
                if shape not in self._graphs:
                    self._graphs[shape] = self._trace(x)
        return self._graphs[shape]

    def _trace(self, x: torch.Tensor):
        eager = _Features(self.net)
        try:
            with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
                # torch.jit is deprecated in favour of torch.compile, which needs a C++ compiler
                # and minutes at start-up on this CPU; if torch drops it, the copy serves eagerly.
                warnings.simplefilter("ignore", DeprecationWarning)
                example = x[:1].clone()
                traced = torch.jit.trace(eager, example, check_trace=False)
                return torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
        except Exception as error:  # noqa: BLE001 - any network TorchScript cannot trace still serves, eagerly
            log.info("serving %s eagerly: TorchScript could not trace it (%s)", type(self.net).__name__, error)
            return None


class _Features(nn.Module):
    """``net.features`` as a module's forward (what TorchScript traces)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(x)


def fold_batch_norm(module: nn.Module) -> nn.Module:
    """In every ``nn.Sequential`` below ``module`` (an eval-mode copy: changed in place), a
    convolution directly followed by batch norm becomes one convolution and an identity.
    Pairs that are not neighbours in a Sequential (a ResNet block's) are left as they are."""
    for child in module.children():
        fold_batch_norm(child)
    if isinstance(module, nn.Sequential):
        layers = list(module)
        for i in range(len(layers) - 1):
            conv, norm = layers[i], layers[i + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d) and norm.track_running_stats:
                module[i], module[i + 1] = fuse_conv_bn_eval(conv, norm), nn.Identity()
    return module
