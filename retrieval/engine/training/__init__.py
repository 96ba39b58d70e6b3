"""Training loops. A trainer reports only through ``TrainingCallback``; it never imports a
progress bar, Django or Channels."""
