"""dataseal chain layer."""
