"""The data edge: sources (Yahoo, files), the disk cache and its one fetch-merge-write path."""
