"""Tables on standard output, in Markdown so they can be pasted into docs/performance.md."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]], notes: Sequence[str] = ()) -> None:
    """Print one aligned Markdown table with a title and optional notes below it."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [f"\n### {title}\n", line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(row) for row in rows]
    if notes:
        out += ["", *notes]
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()


def status(message: str) -> None:
    """Progress on standard error, so standard output stays a clean report."""
    sys.stderr.write(f"bench: {message}\n")
    sys.stderr.flush()


def spread(values: Sequence[float], fmt: str = "{:.0%}") -> str:
    """Median, and min-max when there are several rounds."""
    middle = fmt.format(statistics.median(values))
    if len(values) < 2:
        return middle
    return f"{middle} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def verdict(ratio: float, minimum: float | None) -> str:
    """'met' / 'missed' against a lower bound, '' when the row has no target."""
    if minimum is None:
        return ""
    return "met" if ratio >= minimum else "missed"
