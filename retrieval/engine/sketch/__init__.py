"""Sketch search (Jo et al. 2018): edge maps as stand-in sketches, stroke augmentation,
sketch-image pairs, the sketch-to-image GAN and the ways a sketch becomes a descriptor."""
