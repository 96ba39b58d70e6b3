"""Dataset loaders: each returns plain numpy arrays, never files in a web app's layout."""
