"""dataseal api layer."""
