"""One module per use case; each takes its ports as arguments and holds no global state."""
