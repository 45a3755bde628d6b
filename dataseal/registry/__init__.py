"""dataseal registry layer."""
