"""One package per outside party. Each converts at its edge and calls the core; none imports another."""
