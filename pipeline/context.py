"""What every stage receives: settings, the store, the run id and lazily built resources.

Passed explicitly (no module-level singletons), so stages run the same from the CLI, from a
Prefect task or from a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipeline.progress import Progress
from pipeline.reuse import digest
from pipeline.settings import Settings
from pipeline.store import Provenance, Store
from schemas.run import StageReport

if TYPE_CHECKING:
    from pipeline.embeddings import Embedder
    from pipeline.llm.service import LLMService


@dataclass
class RunContext:
    settings: Settings
    store: Store
    run_id: str
    _embedder: Embedder | None = field(default=None, repr=False)
    _llm: LLMService | None = field(default=None, repr=False)
    progress: Progress = field(default_factory=Progress, repr=False)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from pipeline.embeddings import Embedder

            self._embedder = Embedder.from_settings(self.settings)
        return self._embedder

    @property
    def llm(self) -> LLMService:
        if self._llm is None:
            from pipeline.llm.service import LLMService

            self._llm = LLMService(self)
        return self._llm

    def provenance(self, report: StageReport) -> Provenance:
        return Provenance(report.stage, report.version, report.signature, self.run_id)


StageFn = Callable[[RunContext], StageReport]

# What every model answer depends on besides its prompt and model: part of the signature of
# each stage that asks a model.
SAMPLING = ("llm.temperature", "llm.max_tokens", "seed")


def start_report(
    ctx: RunContext, stage: str, version: str, *settings: str, extra: tuple[Any, ...] = ()
) -> StageReport:
    """A report whose signature covers the stage, its version, the settings it reads (dotted
    paths) and anything else that shapes its results (`extra`, e.g. a prompt fingerprint)."""
    signature = digest(stage, version, ctx.settings.pick(*settings), *extra)
    return StageReport(stage=stage, version=version, signature=signature)
