"""What a build reports about itself (printed, and written as run_summary.json)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StageReport(BaseModel):
    """`processed`: items (re)computed this run; `skipped`: stored results reused because their
    signature still matches; `removed`: stored results no longer current, deleted."""

    stage: str
    version: str
    signature: str
    inputs: int = 0
    processed: int = 0
    skipped: int = 0
    removed: int = 0
    outputs: int = 0
    dropped: dict[str, int] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    # A problem the user must fix (one line); the build stops after this stage.
    error: str | None = None
    # What the stage touched, by name (e.g. the walk's `posts_embedded`): the funnel's cost.
    counters: dict[str, int] = Field(default_factory=dict)
    # model -> {"calls", "prompt_tokens", "completion_tokens", "cost_usd"} sent by this stage
    usage: dict[str, dict[str, float]] = Field(default_factory=dict)

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
    notes: list[str] = Field(default_factory=list)  # e.g. a store migration
    # What this run's model requests cost at the configured prices (US dollars), all stages.
    cost_usd: float = 0.0

    @property
    def error(self) -> str | None:
        return next((f"{n}: {r.error}" for n, r in self.stages.items() if r.error), None)
