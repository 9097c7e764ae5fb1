"""A run's output folder: its files (the only module that knows their names), the curve file,
merging outputs, and opening a saved output."""
