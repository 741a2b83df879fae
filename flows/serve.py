"""`valact serve` (`make serve`): the `rescrape` deployment on a Prefect server, on its cron.

With PREFECT_API_URL set, it serves on that server. Otherwise it starts a local one (UI on) with
PREFECT_HOME inside the project, prints the UI address, and stops it on exit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.settings import Settings

DEFAULT_PORT = 4200


def deployment(settings: Settings, config: Path | None):  # type: ignore[no-untyped-def]
    """The `rescrape` deployment: the flow, its parameters and the cron from the settings."""
    from prefect.schedules import Cron

    from flows.rescrape import rescrape

    return rescrape.to_deployment(
        name="rescrape",
        schedule=Cron(settings.rescrape.cron, timezone=settings.rescrape.timezone),
        parameters={"config": str(config.resolve()) if config else None},
        description="Scrape new posts and carry them through every stage up to the release.",
        tags=["valact"],
    )


def start_local_server(home: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    """A Prefect server with its UI for `home`, answering on 127.0.0.1:`port`."""
    from flows.prefect_env import _healthy

    home.mkdir(parents=True, exist_ok=True)
    from flows.prefect_env import DEFAULTS

    env = {**DEFAULTS, **os.environ, "PREFECT_HOME": str(home), "PREFECT_UI_ENABLED": "true"}
    env.pop("PREFECT_API_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PipelineError(
                f"the Prefect server stopped at start (exit code {process.returncode}): is port "
                f"{port} taken? Set VALACT_SERVE_PORT, or PREFECT_API_URL to a running server"
            )
        if _healthy(url):
            return process, url
        time.sleep(0.5)
    process.terminate()
    raise PipelineError(f"the Prefect server on port {port} did not answer within 180 s")


def serve(settings: Settings, config: Path | None, home: Path, port: int) -> None:
    """Prefect is imported only once PREFECT_API_URL is set: it reads its settings at import,
    and without one it would start a temporary server of its own."""
    process = None
    if not os.environ.get("PREFECT_API_URL"):
        os.environ["PREFECT_HOME"] = str(home)
        process, url = start_local_server(home, port)
        os.environ["PREFECT_API_URL"] = url
        print(f"Prefect UI: http://127.0.0.1:{port}  (API {url}, PREFECT_HOME {home})")
    from prefect import serve as prefect_serve

    try:
        prefect_serve(deployment(settings, config))  # type: ignore[arg-type]
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
