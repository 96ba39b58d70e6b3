"""Training loops. A trainer reports only through ``TrainingCallback``; it never imports a
progress bar, Django or Channels. Every model family registers its trainer in
``registry.TRAINERS``, where the command line and the workers find it by name."""

# Every trainer module, one line each (a registry stays a leaf; its members are imported here).
from retrieval.engine.training import descriptor  # noqa: F401,I001
from retrieval.engine.sketch import train_gan, train_encoder  # noqa: E402,F401
from retrieval.engine.degraded import train_enhancers, train_robust  # noqa: E402,F401
from retrieval.engine.photo import train as train_photo, train_segmenter  # noqa: E402,F401
from retrieval.engine.texture import train_tsn as train_texture_tsn  # noqa: E402,F401
from retrieval.engine.texture import train_hash as train_texture_hash  # noqa: E402,F401
from retrieval.engine.composites import train_gan as train_composites_gan, train_latent  # noqa: E402,F401
