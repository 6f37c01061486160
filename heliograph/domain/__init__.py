"""Entities, limits, permission rules and error codes. Pure Python, no I/O."""
