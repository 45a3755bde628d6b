"""dataseal cli layer."""
