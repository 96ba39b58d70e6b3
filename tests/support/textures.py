"""A tiny texture setup for the page, API, websocket and browser tests: the two texture
trainers' quick configurations (seconds) write the serving checkpoints into the test
checkpoint folder, and the first few packaged textures' database crops make the gallery."""

from pathlib import Path

import torch
from django.conf import settings

from retrieval.engine.texture.patterns import GIMP_PATTERNS

TEXTURES = 4  # classes: 16 crops each


def tiny_texture_checkpoints() -> Path:
    """``texture-tsn.pt`` and ``texture-hash-tsn_dsdh.pt`` (32-256 bits), trained once per session."""
    from retrieval.engine.training.callbacks import TrainingCallback
    from retrieval.engine.training.registry import TrainContext, get_trainer

    folder = Path(settings.RETRIEVAL["CHECKPOINT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tsn = get_trainer("texture_tsn")
        if not (folder / "texture-tsn.pt").is_file():
            tsn.run(tsn.build_config(dict(tsn.quick)), TrainContext(GIMP_PATTERNS, folder / "texture-tsn.pt"),
                    TrainingCallback())
        spec = get_trainer("texture_hash")
        config = spec.build_config({**spec.quick, "bits": "32,64,128,256", "textures": TEXTURES})
        out = folder / spec.default_checkpoint_name(config)
        if not out.is_file():
            spec.run(config, TrainContext(GIMP_PATTERNS, out), TrainingCallback())
    finally:
        torch.set_num_threads(threads)
    return folder / "texture-hash-tsn_dsdh.pt"


def texture_crops(folder: Path) -> Path:
    """The gallery's files (written once per folder)."""
    from retrieval.engine.texture.gallery import write_database_crops
    from retrieval.engine.texture.patterns import load_textures

    if not folder.is_dir() or not any(folder.iterdir()):
        write_database_crops(load_textures(GIMP_PATTERNS, limit=TEXTURES), folder)
    return folder


def import_texture_gallery(folder: Path):
    """The `textures` gallery from ``folder`` (its crops), with the indexes forgotten."""
    from retrieval.galleries.folders import gallery_import_folder
    from retrieval.texture import services

    services.forget()
    return gallery_import_folder(folder=texture_crops(folder), slug="textures", name="Textures",
                                 labels="subfolders").gallery
