"""One registry mechanism for everything created by name: networks, descriptors, trainers.

    NETS = Registry("network")

    @NETS.register("fmnist_cnn")
    class FashionCNN(nn.Module): ...

    net = NETS.create("fmnist_cnn", num_classes=10)
"""

from collections.abc import Callable
from typing import Any


class Registry:
    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable:
        def decorate(factory: Callable) -> Callable:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = factory
            return factory
        return decorate

    def create(self, name: str, **kwargs: Any) -> Any:
        return self.get(name)(**kwargs)

    def get(self, name: str) -> Callable[..., Any]:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise KeyError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def values(self) -> list[Any]:
        """The entries in the order they were registered."""
        return list(self._entries.values())

    def __contains__(self, name: str) -> bool:
        return name in self._entries
