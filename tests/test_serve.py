"""`make serve` (`valact serve`): a local Prefect server with its UI, PREFECT_HOME inside the
project folder, serving the `rescrape` deployment on the cron from the settings."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from flows.prefect_env import _cmdline


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, body: dict) -> object:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _servers_on(port: int) -> list[int]:
    return [
        int(p.name)
        for p in Path("/proc").glob("[0-9]*")
        if "prefect" in (cmd := _cmdline(int(p.name))) and f"--port {port}" in cmd
    ]


def test_valact_serve_starts_a_local_prefect_server_and_serves_the_scheduled_deployment(
    tmp_path: Path,
) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "VALACT_"))} | {
        "VALACT_RESCRAPE__CRON": "15 3 * * 2",
        "VALACT_PROCESSED_DIR": str(tmp_path / "out"),
    }
    valact = Path(sys.executable).parent / "valact"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(valact), "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deployments: list = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not deployments:
            assert proc.poll() is None, log.read_text()
            with contextlib.suppress(OSError):  # not up yet
                deployments = _post(f"{api}/deployments/filter", {})  # type: ignore[assignment]
            time.sleep(1)
        assert deployments, log.read_text()
        (d,) = deployments
        assert d["name"] == "rescrape"
        (schedule,) = d["schedules"]
        assert schedule["schedule"]["cron"] == "15 3 * * 2"
        flow = json.loads(urllib.request.urlopen(f"{api}/flows/{d['flow_id']}", timeout=10).read())
        assert flow["name"] == "rescrape"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as ui:
            assert ui.status == 200 and b"<html" in ui.read().lower()  # the UI is on
        assert (tmp_path / ".prefect").is_dir()  # the project's own PREFECT_HOME
        assert f"Prefect UI: http://127.0.0.1:{port}" in log.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: serve stops its server on the way out
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        deadline = time.monotonic() + 30
        while _servers_on(port) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = _servers_on(port)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    assert not left, "valact serve left its Prefect server running"
