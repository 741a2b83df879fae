"""The temporary Prefect server of `valact build` never outlives the build.

Prefect left alone stops its temporary server only from `atexit`: a killed build (SIGKILL,
SIGTERM, SIGHUP) left it running on `<processed>/prefect`, and the next build shared the SQLite
file with it. Each test runs the real command line (`python -m flows.cli build`), kills it or
lets it finish, and then looks at the processes running Prefect's server app with that
PREFECT_HOME. Linux only (/proc). Every wait is bounded; every process started is ended.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc (Linux)")

APP = "prefect.server.api.server:create_app"
START_TIMEOUT = 180.0  # a fresh Prefect database migrates at first start: slow on 2 busy cores
BUILD_TIMEOUT = 600.0
DIRTY = ("ERROR", "Traceback", "database is locked")
T = TypeVar("T")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def prefect_servers(home: Path) -> list[int]:
    """Live processes running Prefect's server app with PREFECT_HOME=`home`."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        ours = APP.encode() in cmdline and f"PREFECT_HOME={home}".encode() in environ
        if ours and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _port(pid: int) -> int | None:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return None
    return int(args[args.index("--port") + 1]) if "--port" in args else None


def _healthy(port: int) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/api/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_for(what: str, check: Callable[[], T | None], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)
    return value


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


class Builds:
    """Starts builds (and helpers) on one processed folder; ends whatever is left at teardown."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.processed = tmp_path / "processed"
        self.home = (self.processed / "prefect").resolve()
        self.empty_raw = tmp_path / "raw"
        self.empty_raw.mkdir()
        self.started: list[subprocess.Popen[bytes]] = []
        self.logs = 0

    def env(self, raw: Path | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VALACT_", "PREFECT_"))}
        env["VALACT_PROCESSED_DIR"] = str(self.processed)
        if raw is not None:  # None: the bundled sample from valact.toml (a longer flow run)
            env["VALACT_SOURCE__RAW_DIR"] = str(raw)
        return env

    def popen(self, args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
        self.logs += 1
        log = self.tmp / f"console-{self.logs}.txt"
        with log.open("wb") as out:  # a file, not a pipe: a server left running may hold it
            process = subprocess.Popen(
                args,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # teardown can end the build and what it started
                # a shell running us in the background may ignore SIGINT: the build must not
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )
        self.started.append(process)
        return process, log

    def start(self, raw: Path | None = None) -> tuple[subprocess.Popen[bytes], Path]:
        return self.popen([sys.executable, "-m", "flows.cli", "build"], self.env(raw))

    def run(self, raw: Path | None = None) -> tuple[int, str]:
        process, log = self.start(raw)
        code = process.wait(timeout=BUILD_TIMEOUT)
        return code, log.read_text(errors="replace")

    def printed_pid(self, helper: subprocess.Popen[bytes], log: Path) -> int:
        """Waits for a helper script to print its server's pid; returns it."""

        def printed() -> int | None:
            if helper.poll() is not None:
                raise AssertionError(f"the helper failed:\n{log.read_text(errors='replace')}")
            pids = [line for line in log.read_text(errors="replace").split() if line.isdigit()]
            return int(pids[0]) if pids else None

        return wait_for("the helper's server", printed, START_TIMEOUT)

    def server_up(self) -> int:
        """Waits for this folder's Prefect server to answer; returns its pid."""

        def up() -> int | None:
            for pid in prefect_servers(self.home):
                port = _port(pid)
                if port and _healthy(port):
                    return pid
            return None

        return wait_for("the Prefect server to answer", up, START_TIMEOUT)

    def cleanup(self) -> None:
        for process in self.started:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)  # the build and Prefect's own server
                _kill(process.pid)
                process.wait(timeout=30)
        for pid in prefect_servers(self.home):
            _kill(pid)


@pytest.fixture
def builds(tmp_path: Path) -> Iterator[Builds]:
    b = Builds(tmp_path)
    try:
        yield b
    finally:
        b.cleanup()


def assert_clean(console: str) -> None:
    for word in DIRTY:
        assert word not in console, console


def test_a_normal_exit_leaves_no_server(builds: Builds) -> None:
    code, console = builds.run(builds.empty_raw)
    assert code == 0, console
    assert_clean(console)
    assert prefect_servers(builds.home) == []  # stopped before the build exited, not after
    assert not (builds.home / "valact-server.json").exists()


def test_the_next_build_after_a_sigkill_runs_clean_and_leaves_no_server(builds: Builds) -> None:
    build, _ = builds.start(builds.empty_raw)
    builds.server_up()
    build.send_signal(signal.SIGKILL)
    build.wait(timeout=30)
    # Left alone Prefect's server survives this; ours gets SIGTERM from the kernel on Linux.
    code, console = builds.run(builds.empty_raw)
    assert code == 0, console
    assert_clean(console)
    assert prefect_servers(builds.home) == []


ORPHAN_PREFECT = """\
import os, sys, time
os.environ.update(PREFECT_HOME=sys.argv[1], PREFECT_SERVER_ANALYTICS_ENABLED="false")
from prefect.server.api.server import SubprocessASGIServer
server = SubprocessASGIServer()
server.start()
print(server.server_process.pid, flush=True)
time.sleep(600)
"""

ORPHAN_VALACT = """\
import os, sys, time
from pathlib import Path
os.environ["PREFECT_HOME"] = sys.argv[1]
from flows.prefect_env import start_server
start_server(Path(sys.argv[1]), home_is_ours=True, die_with_parent=False)
from flows import prefect_env
print(prefect_env._server.process.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(ORPHAN_PREFECT, id="started-by-prefect"),  # what a build used to leave
        pytest.param(ORPHAN_VALACT, id="recorded-in-pid-file"),  # no parent-death signal
    ],
)
def test_a_stale_server_from_a_killed_process_is_stopped_by_the_next_build(
    builds: Builds, script: str
) -> None:
    builds.home.mkdir(parents=True)
    env = builds.env(builds.empty_raw)
    helper, log = builds.popen([sys.executable, "-c", script, str(builds.home)], env)

    stale = builds.printed_pid(helper, log)
    assert stale in prefect_servers(builds.home), log.read_text()
    helper.send_signal(signal.SIGKILL)
    helper.wait(timeout=30)
    time.sleep(1)
    assert _alive(stale), "the helper's server should outlive it: nothing stale to find"

    code, console = builds.run(builds.empty_raw)
    assert code == 0, console
    assert_clean(console)
    assert not _alive(stale)
    assert prefect_servers(builds.home) == []


SIGNALS = [pytest.param(s, id=s.name) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)]


@pytest.mark.parametrize("sig", SIGNALS)
def test_a_signal_during_a_build_stops_the_server(builds: Builds, sig: signal.Signals) -> None:
    build, log = builds.start()  # the bundled sample: the flow runs long enough to interrupt
    builds.server_up()
    wait_for("the flow run", lambda: "Beginning flow run" in log.read_text(), START_TIMEOUT)
    build.send_signal(sig)
    try:
        code = build.wait(timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 120 s after {sig.name}:\n{log.read_text(errors='replace')}")
    console = log.read_text(errors="replace")
    # Stopped before the build exited: not left running, nor stopping after the build died.
    assert prefect_servers(builds.home) == [], f"exit code {code}\n{console}"
    assert "database is locked" not in console
    record = builds.home / "valact-server.json"
    assert not record.exists(), json.loads(record.read_text())


# A program that swallows every KeyboardInterrupt, as a build did when DuckDB turned one into
# "Query interrupted" inside a handler that went on: only the Ctrl-C watchdog can end it.
SWALLOWS_CTRL_C = """\
import os, sys, time
from pathlib import Path
os.environ["PREFECT_HOME"] = sys.argv[1]
from flows import prefect_env
prefect_env.INTERRUPT_GRACE = float(sys.argv[2])
prefect_env.start_server(Path(sys.argv[1]), home_is_ours=True)
print(prefect_env._server.process.pid, flush=True)
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        print("swallowed", flush=True)
"""


@pytest.mark.parametrize(
    ("grace", "presses"),
    [
        pytest.param(2.0, 1, id="the-watchdog-after-the-grace"),
        pytest.param(600.0, 2, id="a-second-ctrl-c-at-once"),
    ],
)
def test_a_ctrl_c_the_build_outlives_still_ends_it_and_its_server(
    builds: Builds, grace: float, presses: int
) -> None:
    builds.home.mkdir(parents=True)
    env = builds.env(builds.empty_raw)
    helper, log = builds.popen(
        [sys.executable, "-c", SWALLOWS_CTRL_C, str(builds.home), str(grace)], env
    )

    server = builds.printed_pid(helper, log)
    for _ in range(presses):
        helper.send_signal(signal.SIGINT)
        wait_for("the interrupt", lambda: "swallowed" in log.read_text(), 30)
    code = helper.wait(timeout=60)
    console = log.read_text(errors="replace")
    assert code == 130, console
    assert "interrupted:" in console
    assert not _alive(server)
    assert prefect_servers(builds.home) == []
    assert not (builds.home / "valact-server.json").exists()


def test_a_ctrl_c_inside_a_duckdb_query_reads_as_an_interrupt_not_a_damaged_store() -> None:
    """DuckDB sometimes ignores a Ctrl-C altogether (here a third of the runs of a long query,
    the reason the build needs its watchdog): such a run is ended and another one tried."""
    script = (
        "import duckdb, os, signal, threading\n"
        "from pipeline.errors import is_interrupt\n"
        "threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
        "try:\n"
        "    duckdb.connect().execute('select count(*) from range(10000000000000)').fetchall()\n"
        "except Exception as err:\n"
        "    print(type(err).__name__, is_interrupt(err))\n"
    )
    for _ in range(10):
        try:
            out = subprocess.run(
                [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=15
            )
        except subprocess.TimeoutExpired:
            continue
        assert out.stdout.split() == ["RuntimeError", "True"], out.stdout + out.stderr
        return
    pytest.fail("DuckDB ignored the Ctrl-C in 10 runs of 15 s")
