"""No setting, kill or full disk can destroy a release or the store; the release is never
written while requested work is missing unless allowed."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from pipeline.build import run_stages
from pipeline.embeddings import Embedder
from pipeline.llm.offline import OfflineBackend
from pipeline.settings import Settings
from tests.conftest import make_settings, submission, write_dump


def _built(tmp_path: Path, embedder: Embedder) -> Settings:
    s = make_settings(tmp_path, sampling={"per_category": 1})
    write_dump(s.source.raw_dir / "RS.zst", [submission("c1")])
    assert run_stages(s, embedder=embedder).stages["release"].outputs == 1
    return s


def _everything(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if "prefect" not in p.parts}


@pytest.mark.parametrize("version", ["..", "", "../../escaped", ".hidden", "."])
def test_a_version_that_is_not_a_folder_name_is_refused_and_deletes_nothing(
    tmp_path: Path, embedder: Embedder, version: str
) -> None:
    s = _built(tmp_path, embedder)
    before = _everything(s.processed_dir)
    s.release.version = version  # as if validation were bypassed: the stage checks again
    summary = run_stages(s, embedder=embedder)
    assert summary.error and "release.version" in summary.error
    after = _everything(s.processed_dir)
    assert before <= after  # nothing deleted (a new run summary is added)
    assert not (tmp_path / "escaped").exists()


class Killed(BaseException):
    """Stands in for SIGKILL: not an Exception, so nothing may swallow it."""


def test_a_release_killed_while_writing_leaves_no_visible_release_and_is_swept(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datasets

    s = _built(tmp_path, embedder)
    s.release.version = "0.2.0"
    real = datasets.Dataset.to_parquet
    calls = {"n": 0}

    def dying(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Killed
        return real(self, *args, **kwargs)

    monkeypatch.setattr(datasets.Dataset, "to_parquet", dying)
    with pytest.raises(Killed):
        run_stages(s, embedder=embedder)
    assert not (s.releases_dir / "0.2.0").exists()  # never half visible
    assert len(list(s.releases_dir.glob(".0.2.0.tmp-*"))) == 1
    assert (s.releases_dir / "0.1.0" / "manifest.json").exists()  # the older one stands
    monkeypatch.setattr(datasets.Dataset, "to_parquet", real)
    summary = run_stages(s, embedder=embedder)
    assert any("removed 1 half-written" in n for n in summary.stages["release"].notes)
    assert not list(s.releases_dir.glob(".*tmp*"))
    manifest = json.loads((s.releases_dir / "0.2.0" / "manifest.json").read_text())
    assert manifest["counts"]["actions"] == 20


def test_a_full_disk_is_one_line_and_keeps_the_last_summary(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import release

    s = _built(tmp_path, embedder)
    last = (s.processed_dir / "run_summary.json").read_text()
    s.release.version = "0.2.0"

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(s.releases_dir))

    monkeypatch.setattr(release, "write", full)
    monkeypatch.setattr("pipeline.build.write_atomic", full)  # the summary cannot be written
    summary = run_stages(s, embedder=embedder)
    assert summary.error and "no space left on the disk holding" in summary.error
    assert "VALACT_PROCESSED_DIR" in summary.error
    assert (s.processed_dir / "run_summary.json").read_text() == last  # not emptied


def test_missing_work_blocks_the_release_unless_a_partial_release_is_allowed(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = make_settings(tmp_path, sampling={"per_category": 1})
    write_dump(s.source.raw_dir / "RS.zst", [submission("c1"), submission("f1", "Frugal")])
    real = OfflineBackend.complete

    def no_annotation_for_power(self, request):
        if request.task == "annotate" and "would use" in request.payload["action"]:
            from pipeline.llm.service import BackendError

            raise BackendError("http 500: down")
        return real(self, request)

    monkeypatch.setattr(OfflineBackend, "complete", no_annotation_for_power)
    summary = run_stages(s, embedder=embedder)
    error = summary.error or ""
    assert "not written" in error and "missing annotations" in error
    assert "release.allow_partial" in error
    assert not s.releases_dir.exists()

    s.release.allow_partial = True
    summary = run_stages(s, embedder=embedder)
    assert summary.error is None
    folder = s.releases_dir / s.release.version
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["partial"]["missing_annotations"] > 0
    assert "Partial release" in (folder / "README.md").read_text()
