"""One run at a time per processed folder: a second run is told so in one line, before it
starts anything (a Prefect server, a model call) that could trip over the first."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import PipelineError


@contextmanager
def run_lock(processed_dir: Path) -> Iterator[None]:
    processed_dir.mkdir(parents=True, exist_ok=True)
    path = processed_dir / ".valact.lock"
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise PipelineError(
                f"another valact run ({holder}) is using {processed_dir}: wait for it to "
                "finish, or set VALACT_PROCESSED_DIR to another folder"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
