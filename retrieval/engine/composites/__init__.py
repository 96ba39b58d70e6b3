"""Composites with known sources (Kundu & Dutta): pure builders, the DCGAN and its encoder,
the baseline autoencoder, and source search (the paper's latent search and the portal's
region-wise explain-away)."""
