"""A run killed mid-stage resumes from the per-request cache and loses nothing."""

import json
from pathlib import Path

import pytest

from pipeline.build import run_stages
from pipeline.llm.offline import OfflineBackend
from tests.conftest import make_settings, submission, write_dump


class Killed(BaseException):
    """Stands in for SIGKILL/Ctrl-C: not an Exception, so nothing may swallow it."""


def test_killed_generation_resumes_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = make_settings(tmp_path, sampling={"per_category": 1})
    write_dump(s.source.raw_dir / "RS.zst", [submission("c1")])
    real = OfflineBackend.complete
    calls = {"generate": 0}

    def dying(self, request):
        if request.task == "generate_all":  # one request per scenario and generator
            calls["generate"] += 1
            if calls["generate"] > 1:  # dies asking the second generator
                raise Killed
        return real(self, request)

    monkeypatch.setattr(OfflineBackend, "complete", dying)
    with pytest.raises(Killed):
        run_stages(s)
    summary = json.loads((s.processed_dir / "run_summary.json").read_text())
    assert "generate" not in summary["stages"]  # the summary still records how far it got
    assert summary["stages"]["judge"]["processed"] == 1

    monkeypatch.setattr(OfflineBackend, "complete", real)
    second = run_stages(s)
    gen = second.stages["generate"]
    assert gen.outputs == 20 and gen.processed == 20
    assert any(n.startswith("llm cache_hits") for n in gen.notes)  # kept from before the kill
    assert "llm calls: 1" in gen.notes  # only the second generator's request was sent
    assert second.stages["questions"].outputs == 5
