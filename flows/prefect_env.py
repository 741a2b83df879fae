"""A Prefect setup that runs clean on a laptop or CI box: call before importing prefect.

Out of the box, Prefect's temporary local server shares one SQLite file between the API and
its telemetry heartbeat, which logs `database is locked` tracebacks on a 2-core machine. We
keep Prefect's state inside the processed folder and turn the heartbeat off. A user with a real
Prefect server sets PREFECT_API_URL and none of this applies.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_LOGGING_LOG_PRINTS": "false",
    "PREFECT_UI_ENABLED": "false",
}


def configure(processed_dir: Path) -> None:
    """Set Prefect's environment defaults; variables the user already set win."""
    home = Path(os.environ.setdefault("PREFECT_HOME", str((processed_dir / "prefect").resolve())))
    home.mkdir(parents=True, exist_ok=True)  # Prefect itself creates only the last level
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
