"""Training loops. A trainer reports only through ``TrainingCallback``; it never imports a
progress bar, Django or Channels. Every model family registers its trainer in
``registry.TRAINERS``, where the command line and the workers find it by name."""
