"""Settings: ``base`` holds the embedded defaults; ``test`` overrides them for the suite."""
