"""The clock of the rate limits, budgets and the audit log's retention, read in one place so that
tests can stop and move it.

Call `clock.now()` (not `time.time()`): the tests replace `now` with a clock of their own
(tests/conftest.py, the `clock` fixture), so that counting up to a limit never depends on how
fast the machine is or on where a minute ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable

now: Callable[[], float] = time.time  # seconds since the epoch
