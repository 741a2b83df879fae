"""A Prefect setup that runs clean on a laptop or CI box: call `configure` before importing prefect.

Out of the box, Prefect's temporary local server shares one SQLite file between the API and
its telemetry heartbeat, which logs `database is locked` tracebacks on a 2-core machine. We
keep Prefect's state inside the processed folder and turn the heartbeat off. A user with a real
Prefect server sets PREFECT_API_URL and none of this applies.

The temporary server is ours, not Prefect's. Left to itself, Prefect starts it (a uvicorn
subprocess) on the first API call and stops it only from `atexit`: a SIGTERM, SIGHUP or SIGKILL
leaves it running forever, and the next build then shares the SQLite file with it. So
`configure` starts the same server itself and points PREFECT_API_URL at it, and the server is
stopped on every exit we can see:

- normal exit, `sys.exit`, Ctrl-C: `atexit`, which runs after Prefect has sent its last logs;
  a Ctrl-C that does not end the build within INTERRUPT_GRACE seconds (DuckDB turns the
  KeyboardInterrupt into an ordinary "Query interrupted" error that the build may outlive, and
  a library interrupted inside a lock can hang the exit), or a second Ctrl-C, stops the server
  and ends the build with exit code 130;
- SIGTERM and SIGHUP: a handler stops the server, then the build dies by the signal as before
  (during a flow run Prefect's own SIGTERM handler first reports the run crashed);
- SIGKILL or a crash of the build: on Linux the server gets SIGTERM from the kernel when the
  build dies (`PR_SET_PDEATHSIG`), and on the next start any Prefect server still running
  on this PREFECT_HOME (ours from the pid file, or one Prefect itself left) is stopped first.

A lock file makes the sweep safe: a server is only stale if no live build holds the lock.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import IO, Any

from pipeline.errors import PipelineError

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_LOGGING_LOG_PRINTS": "false",
    "PREFECT_UI_ENABLED": "false",
}
PID_FILE = "valact-server.json"  # in PREFECT_HOME: the server this folder's build started
LOCK_FILE = "valact-server.lock"  # held by the build that owns the server, for its lifetime
APP = "prefect.server.api.server:create_app"  # what Prefect's own temporary server runs
STOP_TIMEOUT = 10.0  # seconds from SIGTERM to SIGKILL
INTERRUPT_GRACE = 30.0  # seconds a Ctrl-C leaves the build to unwind before it is ended
BIND_FAILED = 3  # uvicorn's exit code when it cannot bind the port (or the app cannot start)
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # SIGINT is already KeyboardInterrupt

# Runs in the server process before uvicorn: on Linux, ask the kernel to SIGTERM it when the
# build that started it dies, however it dies (and give up if it already has).
_CHILD = """\
import os, sys
owner = int(sys.argv[1])
if sys.platform.startswith("linux"):
    try:
        import ctypes, signal
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)
    except Exception:
        pass
if os.getppid() != owner:
    sys.exit(0)
os.execv(sys.executable, [sys.executable, "-m", "uvicorn", *sys.argv[2:]])
"""


@dataclass
class _Server:
    process: subprocess.Popen[bytes]
    url: str  # the API base, ".../api"
    home: Path
    lock: IO[str]
    owner: int  # our pid: a forked child must not stop the server


_server: _Server | None = None
_stopping = False
_interrupted = False  # a Ctrl-C arrived: the next one ends the build at once


def configure(processed_dir: Path) -> str | None:
    """Set Prefect's environment and start its temporary server; call before importing prefect.

    Variables the user already set win; with PREFECT_API_URL set (in the environment or the
    active Prefect profile) no server is started. Returns the API URL of the server started,
    or None. Call it from the main thread: the server is tied to the calling thread's life.
    """
    home = Path(os.environ.setdefault("PREFECT_HOME", str((processed_dir / "prefect").resolve())))
    home.mkdir(parents=True, exist_ok=True)  # Prefect itself creates only the last level
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    if _server is not None and _server.owner == os.getpid():
        return _server.url
    if _user_api_url(home):
        return None
    return start_server(home, home_is_ours=home.resolve() == (processed_dir / "prefect").resolve())


def start_server(home: Path, *, home_is_ours: bool = False, die_with_parent: bool = True) -> str:
    """Start the temporary Prefect server for `home` (stopping a stale one first), point
    PREFECT_API_URL at it, and stop it when this process exits. Returns the API URL.

    `home_is_ours`: only valact builds use `home`, so any Prefect server on it is stale.
    `die_with_parent` (Linux): the kernel stops the server when this thread's process dies.
    """
    global _server
    atexit.unregister(stop_server)  # registered once, however many servers this process starts
    atexit.register(stop_server)
    _install_signal_handlers()
    lock = _take_lock(home)
    try:
        stop_stale_servers(home, orphans_only=not home_is_ours)
        process, url = _spawn(home, die_with_parent)
        _server = _Server(process, url, home, lock, os.getpid())
    except BaseException:
        lock.close()
        raise
    os.environ["PREFECT_API_URL"] = url
    os.environ.setdefault("PREFECT_UI_URL", "")  # no UI: no "View at <dead link>" line
    try:
        import prefect  # noqa: F401  (the slow import, done while the server boots)

        _server.process, _server.url = _wait_until_up(home, process, url, die_with_parent)
    except BaseException:
        stop_server()
        raise
    os.environ["PREFECT_API_URL"] = _server.url
    refresh = getattr(sys.modules.get("prefect.context"), "refresh_global_settings_context", None)
    if refresh:  # settings Prefect read at import (in case it was imported before us)
        refresh()
    return _server.url


def stop_server() -> None:
    """Stop the server this process started (safe to call twice, from a signal or atexit)."""
    global _server, _stopping
    server = _server
    if server is None or server.owner != os.getpid():
        return
    _stopping = True
    try:
        _terminate(server.process.pid, group=True, process=server.process)
        record = _read_pid_file(server.home)
        if record and record.get("pid") == server.process.pid:
            (server.home / PID_FILE).unlink(missing_ok=True)
        _server = None
        server.lock.close()
    finally:
        _stopping = False


def stop_stale_servers(home: Path, *, orphans_only: bool = False) -> list[int]:
    """Stop every Prefect server left running on `home`; returns their pids.

    Call it holding the lock: then no live build uses such a server. Looks at the pid file
    (the servers we start) and, on Linux, at every process running Prefect's server app with
    this PREFECT_HOME (also the ones Prefect started itself); `orphans_only`: of those, only the
    ones whose parent died (for a PREFECT_HOME that other Prefect work may share).
    """
    stale = []
    record = _read_pid_file(home)
    if record and _is_same_process(record.get("pid"), record.get("started")):
        stale.append(int(record["pid"]))
    stale += [pid for pid in _prefect_servers(home, orphans_only) if pid not in stale]
    for pid in stale:
        _terminate(pid, group=False)
    (home / PID_FILE).unlink(missing_ok=True)
    return stale


# --- start ------------------------------------------------------------------------------------


def _user_api_url(home: Path) -> str | None:
    """PREFECT_API_URL from the environment or the active profile: the user's own server."""
    if url := os.environ.get("PREFECT_API_URL"):
        return url
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml")
    try:
        profiles = tomllib.loads(path.read_text())
    except (OSError, ValueError):
        return None
    name = os.environ.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
    profile = profiles.get("profiles", {}).get(name, {})
    return profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None


def _take_lock(home: Path) -> IO[str]:
    fh = (home / LOCK_FILE).open("a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise PipelineError(
            f"another build ({holder}) is using the Prefect server of PREFECT_HOME={home}: "
            "wait for it to finish, or give this build its own PREFECT_HOME"
        ) from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}")
    fh.flush()
    return fh


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(home: Path, die_with_parent: bool) -> tuple[subprocess.Popen[bytes], str]:
    """The command Prefect runs for its temporary server, on a free port, in its own session
    (a Ctrl-C at the terminal reaches the build, which then stops the server in order)."""
    port = _free_port()
    spec = importlib.util.find_spec("prefect")
    assert spec and spec.origin, "prefect is not installed"
    uvicorn_args = [
        "--app-dir",
        str(Path(spec.origin).parent.parent),
        "--factory",
        APP,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "error",
        "--lifespan",
        "on",
        "--timeout-graceful-shutdown",
        "5",
    ]
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_UI_ENABLED="0", PREFECT__SERVER_EPHEMERAL="1", PREFECT__SERVER_FINAL="1")
    if die_with_parent and threading.current_thread() is threading.main_thread():
        args = [sys.executable, "-c", _CHILD, str(os.getpid()), *uvicorn_args]
    else:
        args = [sys.executable, "-m", "uvicorn", *uvicorn_args]
    process = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    _write_pid_file(home, process.pid, url)
    return process, url


def _wait_until_up(
    home: Path, process: subprocess.Popen[bytes], url: str, die_with_parent: bool
) -> tuple[subprocess.Popen[bytes], str]:
    timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS") or 90)
    deadline = time.monotonic() + timeout
    retries = 3
    while time.monotonic() < deadline:
        code = process.poll()
        if code == BIND_FAILED and retries and _port_taken(url):  # taken meanwhile: another
            retries -= 1
            process, url = _spawn(home, die_with_parent)
            assert _server is not None
            _server.process, _server.url = process, url
            continue
        if code is not None:
            raise PipelineError(
                f"the temporary Prefect server stopped at start (exit code {code}; its error is "
                "above): fix it, or set PREFECT_API_URL to a running Prefect server"
            )
        if _healthy(url):
            return process, url
        time.sleep(0.1)
    raise PipelineError(
        f"the temporary Prefect server did not answer within {timeout:.0f} s "
        "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS): raise it, or set PREFECT_API_URL "
        "to a running Prefect server"
    )


def _port_taken(url: str) -> bool:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _healthy(url: str) -> bool:
    """Whether the API at `url` answers its health check (asked directly, never via a proxy)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, HTTPException):
        return False


# --- stop -------------------------------------------------------------------------------------


def _install_signal_handlers() -> None:
    """Stop the server on SIGTERM/SIGHUP, where their default (dying on the spot) is in place,
    and bound a Ctrl-C, where Python's own KeyboardInterrupt is: `nohup`'s ignored SIGHUP and a
    background shell's ignored SIGINT stay ignored, a handler the program set stays."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in HANDLED_SIGNALS:
        if signal.getsignal(sig) is signal.SIG_DFL:
            signal.signal(sig, _on_signal)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_interrupt)


def _on_interrupt(signum: int, frame: Any) -> None:
    """A KeyboardInterrupt, as without a handler, so the build unwinds (Prefect reports the
    run crashed, the store closes); a watchdog ends the build if it has not ended within
    INTERRUPT_GRACE seconds, and a second Ctrl-C ends it at once."""
    global _interrupted
    if _stopping:
        return
    if _interrupted:
        _force_exit("a second Ctrl-C")
    _interrupted = True
    threading.Thread(
        target=_watchdog, args=(INTERRUPT_GRACE,), name="valact-ctrl-c", daemon=True
    ).start()
    raise KeyboardInterrupt


def _watchdog(grace: float) -> None:
    time.sleep(grace)
    _force_exit(f"the build still running {grace:g} s after Ctrl-C")


def _force_exit(why: str) -> None:
    """Stop the server, then end the process with a Ctrl-C's exit code, skipping the rest
    of the unwinding (whatever it waits on): as after a kill, the store keeps what was
    committed and a re-run resumes."""
    with contextlib.suppress(Exception):
        stop_server()
    with contextlib.suppress(Exception):
        sys.stderr.write(f"\ninterrupted: {why}; stopped\n")
        sys.stderr.flush()
        sys.stdout.flush()
    os._exit(130)


def _on_signal(signum: int, frame: Any) -> None:
    """Stop the server, then die by the signal as without a handler.

    Not an exception to unwind with: a DuckDB query turns it into "Query interrupted" and the
    build could go on. During a flow run Prefect's own SIGTERM handler comes first: it reports
    the run crashed, then sends SIGTERM again, which lands here.
    """
    if _stopping:  # stopping it already, on the way out
        return
    stop_server()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _terminate(pid: int, *, group: bool, process: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT; `group`: the process's whole session."""

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)

    def gone(timeout: float) -> bool:
        if process is not None:
            try:
                process.wait(timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + timeout
        while _alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    if process is not None and process.poll() is not None:
        return
    send(signal.SIGTERM)
    if not gone(STOP_TIMEOUT):
        send(signal.SIGKILL)
        gone(5)


# --- processes --------------------------------------------------------------------------------


def _write_pid_file(home: Path, pid: int, url: str) -> None:
    record = {"pid": pid, "started": _start_time(pid), "url": url, "owner": os.getpid()}
    tmp = home / f".{PID_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(record))
    tmp.replace(home / PID_FILE)


def _read_pid_file(home: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((home / PID_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("pid"), int) else None


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _start_time(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def _alive(pid: int) -> bool:
    if Path("/proc/self").exists():
        fields = _stat(pid)
        return fields is not None and fields[0] not in ("Z", "X")  # a zombie has stopped
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        pass
    try:  # no /proc (macOS)
        out = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, timeout=5
        )
        return out.stdout.decode(errors="replace")
    except (OSError, subprocess.SubprocessError):
        return ""


def _is_same_process(pid: Any, started: Any) -> bool:
    """Whether `pid` is still the server recorded (not a new process that reused the pid)."""
    if not isinstance(pid, int) or pid <= 0 or not _alive(pid):
        return False
    if started is not None and _start_time(pid) is not None:
        return _start_time(pid) == started
    return APP in _cmdline(pid) or "uvicorn" in _cmdline(pid)


def _prefect_servers(home: Path, orphans_only: bool) -> list[int]:
    """Linux: live temporary Prefect servers (Prefect's or ours) with PREFECT_HOME=`home` (and,
    if `orphans_only`, whose parent died, so init adopted them)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*") if Path("/proc/self").exists() else []:
        pid = int(entry.name)
        if pid == os.getpid() or APP not in _cmdline(pid):
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        temporary = b"PREFECT__SERVER_EPHEMERAL=1" in environ  # not `prefect server start`
        if not temporary or f"PREFECT_HOME={home}".encode() not in environ or not _alive(pid):
            continue
        fields = _stat(pid)
        if not orphans_only or (fields is not None and fields[1] == "1"):
            found.append(pid)
    return found
