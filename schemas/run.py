"""What a build reports about itself (printed, and written as run_summary.json)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StageReport(BaseModel):
    stage: str
    version: str
    config_hash: str
    inputs: int = 0
    processed: int = 0
    skipped: int = 0
    outputs: int = 0
    dropped: dict[str, int] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    def drop(self, reason: str, n: int = 1) -> None:
        if n:
            self.dropped[reason] = self.dropped.get(reason, 0) + n

    def tally(self, verdicts: list[tuple[bool | None, str | None]]) -> None:
        """Count processed keep/drop verdicts: kept ones are outputs, the rest by reason."""
        self.processed += len(verdicts)
        for keep, reason in verdicts:
            if keep:
                self.outputs += 1
            else:
                self.drop(reason or "unknown")


class RunSummary(BaseModel):
    run_id: str
    started_at: str
    finished_at: str | None = None
    config_hash: str
    settings: dict
    offline: bool
    placeholder_actions: bool
    stages: dict[str, StageReport] = Field(default_factory=dict)
    release_dir: str | None = None
