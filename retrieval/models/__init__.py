"""Persistence only: galleries, their images, the indexes built over them, training runs."""

from retrieval.models.galleries import Gallery, GalleryImage, IndexVersion
from retrieval.models.training import TrainingRun

__all__ = ["Gallery", "GalleryImage", "IndexVersion", "TrainingRun"]
