"""Progress bars with rate and ETA for the long stages, on a terminal only.

Stages ask for a bar and get back a function to advance it; off a terminal (CI, Prefect
workers, tests) that function does nothing, so logs stay free of redraws.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

Advance = Callable[[int], None]


def _ignore(n: int) -> None:
    return None


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.1f}/s" if task.speed else "-/s", style="progress.data.speed")


class Progress:
    """`enabled=None` shows bars when stderr is a terminal."""

    def __init__(self, enabled: bool | None = False) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._active = False

    @contextmanager
    def track(self, what: str, total: int | None) -> Iterator[Advance]:
        """A bar for `total` items (None: unknown); one at a time, a nested one is silent."""
        if not self.enabled or self._active or total == 0:
            yield _ignore
            return
        self._active = True
        try:
            with RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                RateColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            ) as bar:
                task = bar.add_task(what, total=total)
                yield lambda n: bar.advance(task, n)
        finally:
            self._active = False
