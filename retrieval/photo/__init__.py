"""Shop photos: the photo descriptor's own index, the "unsure" signal, and `evaluate photo`."""
