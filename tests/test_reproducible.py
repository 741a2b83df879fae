"""Two builds with the same settings and seed give byte-identical Parquet files and the same
fingerprint; the manifest holds their checksums, the code version, the settings hash and seed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.test_release import build


def test_two_builds_give_the_same_bytes_and_the_manifest_says_how(tmp_path: Path) -> None:
    releases = []
    for name in ("a", "b"):
        _, summary = build(tmp_path / name)
        assert summary.release_dir is not None
        releases.append(Path(summary.release_dir))
    a, b = releases
    files = sorted(p.relative_to(a).as_posix() for p in a.rglob("*.parquet"))
    assert files and files == sorted(p.relative_to(b).as_posix() for p in b.rglob("*.parquet"))
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    ma, mb = (json.loads((r / "manifest.json").read_text()) for r in (a, b))
    assert ma["fingerprint"] == mb["fingerprint"]
    assert (
        ma["files"]
        == mb["files"]
        == {f: hashlib.sha256((a / f).read_bytes()).hexdigest() for f in files}
    )
    assert ma["settings_hash"] == mb["settings_hash"] and ma["seed"] == mb["seed"]
    assert ma["config_hash"] != mb["config_hash"]  # that one also covers the folders
    assert ma["code"]["version"] and set(ma["code"]) == {"version", "git_commit", "git_dirty"}
    card = (a / "README.md").read_text()
    assert f"seed {ma['seed']}" in card and ma["settings_hash"] in card
