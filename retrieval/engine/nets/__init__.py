"""Network architectures, created by name through ``NETS``.

Each module registers its networks; they are imported here explicitly so none is forgotten.
"""

from ..registry import Registry

NETS = Registry("network")

from . import descriptor_nets, imagenet  # noqa: E402,F401


def create_net(name: str, **kwargs):
    return NETS.create(name, **kwargs)
