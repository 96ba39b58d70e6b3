"""The descriptor lab (Staszewski et al.): ImageNet backbones' plain, Conv, FC and FC+Conv
descriptors of a gallery, side by side; indexes, the evaluation and the demo gallery."""
