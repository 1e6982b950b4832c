"""Names people type (their own, a team's, a device's, a key's): one visible line.

One rule for all of them, so that a name cannot pass one form and be refused by another: its
whitespace collapsed, at most a given length, no control characters (C0, DEL, C1), no direction
controls (U+202E turns "gnp.exe" into "exe.png" on screen), and something visible.
"""

from __future__ import annotations

import unicodedata

_DIRECTION_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE = frozenset({"Cf", "Mn", "Me", "Zs"})  # format characters (U+200B ...), lone combining marks


def one_line_name(raw: str | None, max_length: int) -> str | None:
    """`raw` with its whitespace collapsed, or None when it breaks the rule above."""
    name = " ".join((raw or "").split())
    if not name or len(name) > max_length:
        return None
    categories = [unicodedata.category(c) for c in name]
    if "Cc" in categories or not _DIRECTION_CONTROLS.isdisjoint(name):
        return None
    if all(category in _INVISIBLE for category in categories):
        return None
    return name
