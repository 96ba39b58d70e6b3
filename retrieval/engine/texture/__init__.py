"""Texture search with learned binary codes (TSN-guided deep supervised discrete hashing).

patterns: the GIMP ``.pat`` reader and the packaged textures; regions: the 4-region protocol
and its crops; tsn: the texture synthesis network; hashnet: the hashing networks; dsdh: the
DSDH / DPSH objectives; binary: bit packing and FAISS binary indexes; lbp: the LBP + LSH
baseline; metrics: Hamming mAP and precision within a radius.
"""
