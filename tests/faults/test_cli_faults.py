"""Every expected failure at the command line is one line and exit code 2, never a traceback;
`--debug` shows the traceback."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app, main
from pipeline.lock import run_lock
from tests.conftest import REPO, make_settings, submission, write_dump


def _cli(args: list[str], processed: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("VALACT_", "PREFECT_"))}
    full.update(VALACT_PROCESSED_DIR=str(processed), **env)
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=REPO,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _one_line_error(out: subprocess.CompletedProcess[str], *words: str) -> None:
    text = out.stdout + out.stderr
    assert out.returncode == 2, text
    assert "Traceback" not in text
    (line,) = [x for x in text.splitlines() if "error:" in x]
    assert all(w in line for w in words), line


def test_a_store_cut_in_half_is_one_line(tmp_path: Path) -> None:
    s = make_settings(tmp_path, sampling={"per_category": 1})
    write_dump(s.source.raw_dir / "RS.zst", [submission("c1")])
    env = {"VALACT_SOURCE__RAW_DIR": str(s.source.raw_dir), "VALACT_SAMPLING__PER_CATEGORY": "1"}
    assert _cli(["ingest"], s.processed_dir, **env).returncode == 0
    db = s.processed_dir / "valact.duckdb"
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    _one_line_error(_cli(["ingest"], s.processed_dir, **env), "store", "move it aside")


def test_a_processed_path_inside_a_file_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    _one_line_error(_cli(["ingest"], blocker / "processed"), "error")


def test_an_empty_or_broken_run_summary_is_one_line(tmp_path: Path) -> None:
    processed = tmp_path / "processed"
    processed.mkdir()
    (processed / "run_summary.json").write_text("")  # what a full disk used to leave
    _one_line_error(_cli(["summary"], processed), "unreadable", "run a build")


def test_a_second_run_in_the_same_folder_is_refused_in_one_line(tmp_path: Path) -> None:
    processed = tmp_path / "processed"
    with run_lock(processed):
        out = _cli(["build", "--no-prefect"], processed)
    _one_line_error(out, "another valact run", f"pid {os.getpid()}", "VALACT_PROCESSED_DIR")


def test_an_unexpected_os_error_is_one_line_and_debug_shows_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.settings import Settings

    def denied(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", "/data/processed/x")

    monkeypatch.setenv("VALACT_PROCESSED_DIR", str(tmp_path / "p"))
    monkeypatch.setattr(Settings, "public_dict", denied)
    monkeypatch.setattr(sys, "argv", ["valact", "config"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    out = capsys.readouterr().out
    assert "cannot write /data/processed/x" in out and "Traceback" not in out
    monkeypatch.setattr(sys, "argv", ["valact", "--debug", "config"])
    with pytest.raises(PermissionError):
        main()


def test_the_lock_is_released_after_a_run(tmp_path: Path) -> None:
    processed = tmp_path / "processed"
    env = {"VALACT_PROCESSED_DIR": str(processed), "VALACT_SOURCE__RAW_DIR": str(tmp_path)}
    for _ in range(2):
        result = CliRunner().invoke(app, ["ingest"], env=env)
        assert result.exit_code == 0, result.output


def _immutable(path: Path, on: bool) -> bool:
    """A folder nobody may write, root included (chattr +i); False where unsupported."""
    if shutil.which("chattr") is None:
        return False
    flag = "+i" if on else "-i"
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


def test_read_only_releases_and_processed_folders_are_one_line_and_lose_nothing(
    tmp_path: Path,
) -> None:
    s = make_settings(tmp_path, sampling={"per_category": 1})
    write_dump(s.source.raw_dir / "RS.zst", [submission("c1")])
    env = {"VALACT_SOURCE__RAW_DIR": str(s.source.raw_dir), "VALACT_SAMPLING__PER_CATEGORY": "1"}
    assert _cli(["build", "--no-prefect"], s.processed_dir, **env).returncode == 0
    releases = s.processed_dir / "releases"
    before = sorted(p.name for p in releases.rglob("*"))
    if not _immutable(releases, True):
        pytest.skip("chattr +i is not available here")
    try:
        out = _cli(
            ["build", "--no-prefect"],
            s.processed_dir,
            **env,
            VALACT_SEED="7",
            VALACT_RELEASE__VERSION="0.2.0",
        )
    finally:
        _immutable(releases, False)
    _one_line_error(out, "cannot write", "permissions")
    assert sorted(p.name for p in releases.rglob("*")) == before
    assert _immutable(s.processed_dir, True)
    try:
        out = _cli(["build", "--no-prefect"], s.processed_dir, **env)
    finally:
        _immutable(s.processed_dir, False)
    _one_line_error(out, "error")
