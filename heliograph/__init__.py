"""Heliograph: a self-hostable messenger with gap-free sync and open APIs."""

__version__ = "0.1.0"
