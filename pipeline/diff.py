"""`valact diff A B`: what changed between two releases (local versions, or `hf://OWNER/NAME@vX`
on the Hub): scenarios, actions and questions added, removed and changed, counts first.

Rows are matched by their ids (scenario_id, action_id, question_id); a row is "changed" when
its id is in both and any field differs (the fields that differ are named)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline.errors import PipelineError
from pipeline.publish import HUB_SCHEME, parse_target
from schemas.release import RELEASE_CONFIGS

ID_OF = {"scenarios": "scenario_id", "actions": "action_id", "questions": "question_id"}


@dataclass
class ConfigDiff:
    config: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # id -> fields that differ

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "changed": len(self.changed),
        }


def resolve(
    ref: str, releases_dir: Path, *, endpoint: str | None = None, cache_dir: Path | None = None
) -> Path:
    """A release folder for `ref`: a local version, or hf://OWNER/NAME@REVISION downloaded (by
    `huggingface_hub`, into its cache; `endpoint` default: HF_ENDPOINT, else the Hub)."""
    if ref.startswith(HUB_SCHEME):
        target, _, revision = ref.partition("@")
        repo_id = parse_target(target)
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError

        try:
            return Path(
                snapshot_download(
                    repo_id,
                    repo_type="dataset",
                    revision=revision or "main",
                    endpoint=endpoint,
                    cache_dir=cache_dir,
                )
            )
        except HfHubHTTPError as err:
            first = str(err).strip().splitlines()[0]
            raise PipelineError(f"cannot read {ref} from the Hub: {first}") from None
    folder = releases_dir / ref
    if folder.resolve().parent != releases_dir.resolve() or ref.startswith("."):
        raise PipelineError(f"{ref!r} is neither a local release version nor hf://OWNER/NAME@vX")
    if not (folder / "manifest.json").is_file():
        raise PipelineError(f"no local release {ref} in {releases_dir}")
    return folder


def rows(release: Path, config: str) -> dict[str, dict[str, Any]]:
    """id -> row of one config of a release folder (all its Parquet files)."""
    key = ID_OF[config]
    out: dict[str, dict[str, Any]] = {}
    for path in sorted((release / config).glob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            out[str(row[key])] = row
    return out


def diff(old: Path, new: Path) -> list[ConfigDiff]:
    out = []
    for config in RELEASE_CONFIGS:
        a, b = rows(old, config), rows(new, config)
        d = ConfigDiff(config, added=sorted(set(b) - set(a)), removed=sorted(set(a) - set(b)))
        for key in sorted(set(a) & set(b)):
            fields = [
                f for f in sorted(set(a[key]) | set(b[key])) if a[key].get(f) != b[key].get(f)
            ]
            if fields:
                d.changed[key] = fields
        out.append(d)
    return out
