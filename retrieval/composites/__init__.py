"""Finding the sources of a composite (Kundu & Dutta, and the portal's region-wise explain-away)."""
