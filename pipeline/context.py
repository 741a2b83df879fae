"""What every stage receives: settings, the store, the run id and lazily built resources.

Passed explicitly (no module-level singletons), so stages run the same from the CLI, from a
Prefect task or from a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from pipeline.embeddings import Embedder

            self._embedder = Embedder(self.settings.dedup.embedding_model)
        return self._embedder

    @property
    def llm(self) -> LLMService:
        if self._llm is None:
            from pipeline.llm.service import LLMService

            self._llm = LLMService(self)
        return self._llm

    def provenance(self, stage: str, version: str, config_hash: str) -> Provenance:
        return Provenance(stage=stage, version=version, config_hash=config_hash, run_id=self.run_id)


StageFn = Callable[[RunContext], StageReport]


def start_report(ctx: RunContext, stage: str, version: str, *sections: str) -> StageReport:
    return StageReport(
        stage=stage, version=version, config_hash=ctx.settings.section_hash(*sections)
    )
