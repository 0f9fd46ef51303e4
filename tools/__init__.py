"""Operator and generator commands run with `python -m tools.<name>`."""
