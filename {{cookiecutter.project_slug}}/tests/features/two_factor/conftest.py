"""The magic-link tests of the gate exist only where the magic link does (it is an optional feature too)."""

from app.features import ENABLED

collect_ignore = [] if any(f.name == "magic_link" for f in ENABLED) else ["test_magic_link_gate.py"]
