"""Maintenance scripts of the template repository (run as modules: `python -m scripts.lock`)."""
