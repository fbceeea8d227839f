"""s2s: broker school-to-school support from the command line."""

__version__ = "0.1.0"
