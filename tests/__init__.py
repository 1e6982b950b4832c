"""Tests of the template itself (not of the project it generates)."""
