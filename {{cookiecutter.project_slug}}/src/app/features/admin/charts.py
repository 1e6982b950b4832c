"""Bar charts of daily counts as inline SVG, drawn on the server: no chart library, no script.

The Content-Security-Policy allows neither inline scripts nor style attributes, so a chart is
plain SVG with presentation attributes (x, y, width, height) and classes; its colours are the
theme's, from admin.css. It scales with its container (a viewBox, no fixed size). Every text in
it is escaped by markupsafe, and it is an image with a title and a description for screen
readers; the page gives the same numbers as a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from app.features.admin.dashboard import Series

WIDTH, HEIGHT = 400, 180
LEFT, RIGHT, TOP, BOTTOM = 42, 6, 10, 24  # room for the count labels (left) and the day labels (below)
GRID_LINES = 4  # above the baseline
BAR_SHARE = 0.72  # of a day's slot; the rest is the gap between bars


@dataclass(frozen=True)
class Chart:
    """A bar per day; with several series, stacked in their order (the legend's)."""

    key: str  # unique on the page: the ids of the chart's title and description derive from it
    title: str
    days: Sequence[date]
    series: Sequence[Series]
    note: str = ""  # what is counted, in words, under the title

    @property
    def day_totals(self) -> list[int]:
        """Each day's bar height: the sum of its series."""
        return [sum(s.values[n] for s in self.series) for n in range(len(self.days))]

    @property
    def rows(self) -> list[tuple[str, list[int]]]:
        """The numbers as the page's table shows them: per day, one count per series."""
        return [(long_day(day), [s.values[n] for s in self.series]) for n, day in enumerate(self.days)]


def short_day(day: date) -> str:
    """'9 Mar'."""
    return f"{day.day} {day:%b}"


def long_day(day: date) -> str:
    """'9 Mar 2026'."""
    return f"{day.day} {day:%b %Y}"


def grid_step(peak: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50 ... that GRID_LINES steps of reach `peak`."""
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if step * GRID_LINES >= peak:
                return step
        magnitude *= 10


def describe(chart: Chart) -> str:
    """The chart in one sentence, for screen readers (the table below it has every number)."""
    totals = chart.day_totals
    if not chart.days:
        return "No days to show."
    span = f"From {long_day(chart.days[0])} to {long_day(chart.days[-1])}"
    if not any(totals):
        return f"{span}: none."
    peak = max(totals)
    busiest = chart.days[totals.index(peak)]
    return f"{span}: {sum(totals):,} in all; the busiest day, {long_day(busiest)}, had {peak:,}."


def bar_chart(chart: Chart) -> Markup:
    """The chart as an <svg> element.

    Built as text for speed (a chart has hundreds of elements, and markupsafe's `Markup.format`
    costs ten times an f-string): numbers are formatted here, and every text goes through
    `escape` before it joins them.
    """
    step = grid_step(max(chart.day_totals, default=0))
    top = step * GRID_LINES
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    slot = plot_width / max(len(chart.days), 1)
    key = escape(chart.key)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{key}-title"'
        f' aria-describedby="{key}-desc">'
        f'<title id="{key}-title">{escape(chart.title)} per day</title>'
        f'<desc id="{key}-desc">{escape(describe(chart))}</desc>'
    ]
    for line in range(GRID_LINES + 1):
        y = baseline - plot_height * line / GRID_LINES
        parts.append(
            f'<line class="chart__grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart__tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{step * line:,}</text>'
        )
    labels = [escape(series.label) for series in chart.series]
    for n, day in enumerate(chart.days):
        x, when = LEFT + n * slot + slot * (1 - BAR_SHARE) / 2, escape(short_day(day))
        stacked = 0
        for index, series in enumerate(chart.series):
            value = series.values[n]
            y, height = baseline - plot_height * (stacked + value) / top, plot_height * value / top
            stacked += value
            parts.append(
                f'<rect class="chart__bar chart__bar--{index}" x="{x:.1f}" y="{y:.1f}" width="{slot * BAR_SHARE:.1f}"'
                f' height="{height:.1f}"><title>{when}, {labels[index]}: {value:,}</title></rect>'
            )
    for n, anchor in _day_labels(len(chart.days)):
        parts.append(
            f'<text class="chart__day" x="{LEFT + (n + 0.5) * slot:.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">'
            f"{escape(short_day(chart.days[n]))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it is escaped above


def _day_labels(days: int) -> list[tuple[int, str]]:
    """The days labelled under the bars: the first, the middle and the last (today)."""
    if days == 0:
        return []
    picked = {0: "start", days // 2: "middle", days - 1: "end"}
    return sorted(picked.items())
