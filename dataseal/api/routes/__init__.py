"""The HTTP API's routes, one module (one ``router``) per area."""
