"""Zoom: OAuth (with rotation-safe refresh), the REST API, and the meeting-platform port."""
