"""What a build reports about itself (printed, and written as run_summary.json)."""

from __future__ import annotations

from collections import Counter

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
        self.dropped[reason] = self.dropped.get(reason, 0) + n

    def drops(self, reasons: Counter[str]) -> None:
        for reason, n in reasons.items():
            self.drop(reason, n)


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
