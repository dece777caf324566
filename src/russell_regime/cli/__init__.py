"""Command line: one module per command; :mod:`.main` builds the parser and runs it."""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
