"""Store tables: one per stage output, each a schema model plus its stable key."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from schemas import records as r
from schemas.human import HumanAnnotation
from schemas.llm import BatchJob


@dataclass(frozen=True)
class Table:
    name: str
    model: type[BaseModel]
    key: tuple[str, ...]


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("source_files", r.SourceFile, ("sha256", "signature")),
        Table("ingest_rejects", r.IngestReject, ("source_sha256", "line_no")),
        Table("posts", r.Post, ("post_id",)),
        Table("scrape_state", r.ScrapeState, ("subreddit", "listing")),
        Table("prefilter", r.FilterDecision, ("post_id",)),
        Table("embeddings", r.Embedding, ("text_sha", "model")),
        Table("dedup", r.DedupDecision, ("post_id",)),
        Table("minhashes", r.MinHashSignature, ("text_sha", "method")),
        Table("minhash_bands", r.MinHashBands, ("text_sha", "method")),
        Table("near_dup", r.NearDupDecision, ("post_id",)),
        Table("judge_votes", r.JudgeVote, ("post_id", "model", "role")),
        Table("judge_panel", r.PanelDecision, ("post_id",)),
        Table("scenarios", r.Scenario, ("scenario_id",)),
        Table("actions", r.Action, ("action_id",)),
        Table("annotations", r.Annotation, ("action_id", "annotator")),
        Table("regenerations", r.Regeneration, ("action_id", "attempt")),
        Table("gate_actions", r.GateAction, ("action_id",)),
        Table("gate_scenarios", r.GateScenario, ("scenario_id",)),
        Table("questions", r.Question, ("question_id",)),
        Table("llm_cache", r.LLMCall, ("request_id",)),
        Table("llm_failures", r.LLMFailure, ("request_id",)),
        Table("llm_batches", BatchJob, ("batch_id",)),
        Table("human_annotations", HumanAnnotation, ("action_id", "annotator")),
    )
}

TABLE_OF: dict[type[BaseModel], str] = {t.model: t.name for t in TABLES.values()}
