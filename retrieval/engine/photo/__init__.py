"""Shop photos as queries: the item found on any background and brought to the gallery's
look (``normalise``), the backgrounds and the photo-domain augmentation the photo descriptor
learns from (``backgrounds``, ``patterns``, ``augment``), its trainer (``train``) and the
"unsure" rule (``unsure``). No Django here."""
