"""The one typed settings object: defaults < `valact.toml` < `VALACT_*` environment variables.

Defaults reproduce the study (17 subreddits, 5 categories x 600 scenarios); the repo's
`valact.toml` shrinks the sizes for the bundled sample.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from schemas.values import SchwartzValue

OFFLINE_PREFIX = "offline/"


class Category(BaseModel):
    name: str = Field(min_length=1)
    subreddits: list[str] = Field(min_length=1)


def _study_categories() -> list[Category]:
    return [
        Category(name="career", subreddits=["careerguidance", "AskHR", "consulting"]),
        Category(name="finance", subreddits=["personalfinance", "Frugal", "investing"]),
        Category(
            name="education",
            subreddits=["GradSchool", "college", "academia", "gradadmissions"],
        ),
        Category(
            name="relationships",
            subreddits=["relationships", "Parenting", "family", "Marriage"],
        ),
        Category(name="ethics", subreddits=["AmItheAsshole", "changemyview", "askphilosophy"]),
    ]


class SourceSettings(BaseModel):
    raw_dir: Path = Path("data/raw")
    patterns: list[str] = ["**/*.ndjson.zst", "**/*.zst", "**/*.ndjson", "**/*.jsonl"]
    max_line_bytes: int = Field(1_000_000, ge=1_000)
    # The bundled sample is synthetic; the release card must not call its posts Reddit's.
    synthetic: bool = False


class PrefilterSettings(BaseModel):
    min_words: int = Field(40, ge=0)
    max_chars: int = Field(20_000, ge=100)
    allow_nsfw: bool = False
    # Share of tokens that are common English function words; calibrated on real posts
    # (see README, "Calibration").
    min_english_ratio: float = Field(0.18, ge=0, le=1)
    drop_stickied: bool = True


class DedupSettings(BaseModel):
    near_dup_threshold: float = Field(0.92, gt=0, le=1)
    embedding_model: str | None = None  # a local path; None = the bundled MiniLM package
    batch_size: int = Field(64, ge=1)
    max_chars: int = Field(2_000, ge=100)


class LLMSettings(BaseModel):
    """An OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

    Only an explicit base URL turns model calls on, so an OPENAI_API_KEY in someone's shell
    never makes `make dataset` spend money; that key is used when no VALACT key is given.
    """

    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(4, ge=0)
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int = Field(256, ge=16)
    invalid_answer_retries: int = Field(2, ge=0)
    # A request with no valid answer in this many runs in a row is given up (not sent again)
    # until `valact retry-failed`.
    give_up_after_runs: int = Field(3, ge=1)

    @property
    def configured(self) -> bool:
        return bool(self.base_url)

    def key(self) -> str:
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY", "")


class JudgeSettings(BaseModel):
    models: list[str] = ["gpt-4o-mini", "llama-3.1-8b-instruct"]
    tiebreaker: str = "qwen2.5-7b-instruct"
    offline_models: list[str] = [
        f"{OFFLINE_PREFIX}decision-rules",
        f"{OFFLINE_PREFIX}context-rules",
    ]
    offline_tiebreaker: str = f"{OFFLINE_PREFIX}strict-rules"
    # Judge in seeded order only until each category has this many times its quota accepted.
    oversample: float = Field(2.0, ge=1)

    @model_validator(mode="after")
    def _two_judges(self) -> JudgeSettings:
        if len(self.models) != 2 or len(self.offline_models) != 2:
            raise ValueError("the judge panel has exactly two models plus a tiebreaker")
        return self


class GenerationSettings(BaseModel):
    models: list[str] = ["gpt-4o-mini", "llama-3.1-8b-instruct"]
    offline_models: list[str] = [f"{OFFLINE_PREFIX}template-a", f"{OFFLINE_PREFIX}template-b"]
    max_sentences: int = Field(2, ge=1)
    max_words: int = Field(60, ge=5)

    @model_validator(mode="after")
    def _two_generators(self) -> GenerationSettings:
        if len(self.models) != 2 or len(self.offline_models) != 2:
            raise ValueError("ValAct uses exactly two generator models (20 actions per scenario)")
        return self


class AnnotationSettings(BaseModel):
    models: list[str] = ["gpt-4o-mini"]
    offline_models: list[str] = [f"{OFFLINE_PREFIX}minilm-values"]


class SamplingSettings(BaseModel):
    per_category: int = Field(600, ge=1)


class QuestionSettings(BaseModel):
    options_per_question: int = Field(4, ge=2)
    max_attempts: int = Field(10_000, ge=1)


class ReleaseSettings(BaseModel):
    name: str = "ValAct"
    version: str = "0.1.0"
    split: str = "test"
    # Covers what the pipeline adds (actions, questions, annotations); the card says that the
    # post text stays its authors' under Reddit's terms.
    licence: str = "cc-by-4.0"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VALACT_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    processed_dir: Path = Path("data/processed")
    seed: int = 20260101
    categories: list[Category] = Field(default_factory=_study_categories)
    source: SourceSettings = SourceSettings()
    prefilter: PrefilterSettings = PrefilterSettings()
    dedup: DedupSettings = DedupSettings()
    llm: LLMSettings = LLMSettings()
    judge: JudgeSettings = JudgeSettings()
    generation: GenerationSettings = GenerationSettings()
    annotation: AnnotationSettings = AnnotationSettings()
    sampling: SamplingSettings = SamplingSettings()
    questions: QuestionSettings = QuestionSettings()
    release: ReleaseSettings = ReleaseSettings()

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        subs = [s.lower() for c in self.categories for s in c.subreddits]
        if len(subs) != len(set(subs)):
            raise ValueError("a subreddit is listed in more than one category")
        if len(SchwartzValue) * 2 % self.questions.options_per_question:
            raise ValueError("20 actions per scenario must split evenly into questions")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init kwargs; the environment must win over it.
        return env_settings, init_settings

    @property
    def db_path(self) -> Path:
        return self.processed_dir / "valact.duckdb"

    @property
    def releases_dir(self) -> Path:
        return self.processed_dir / "releases"

    @property
    def offline(self) -> bool:
        return not self.llm.configured

    def subreddit_categories(self) -> dict[str, str]:
        """Lower-cased subreddit -> category (Reddit names are case-insensitive)."""
        return {s.lower(): c.name for c in self.categories for s in c.subreddits}

    def judge_models(self) -> tuple[list[str], str]:
        if self.offline:
            return self.judge.offline_models, self.judge.offline_tiebreaker
        return self.judge.models, self.judge.tiebreaker

    def generator_models(self) -> list[str]:
        return self.generation.offline_models if self.offline else self.generation.models

    def annotator_models(self) -> list[str]:
        return self.annotation.offline_models if self.offline else self.annotation.models

    def public_dict(self) -> dict[str, Any]:
        """Settings without secrets or machine-local paths: what provenance may record."""
        data = self.model_dump(mode="json", exclude={"processed_dir"})
        data["llm"].pop("api_key", None)
        data["llm"]["base_url"] = redact_url(self.llm.base_url)
        return data

    def section_hash(self, *sections: str) -> str:
        """Hash of the whole settings (or some sections), for run summaries and manifests."""
        return hashlib.sha256(
            json.dumps(self.pick(*sections), sort_keys=True).encode()
        ).hexdigest()[:16]

    def pick(self, *paths: str) -> dict[str, Any]:
        """The public settings at dotted paths (`"llm.temperature"`); all of them if none."""
        data = self.public_dict()
        if not paths:
            return data
        out: dict[str, Any] = {}
        for path in paths:
            value: Any = data
            for part in path.split("."):
                value = value[part]
            out[path] = value
        return out


def redact_url(url: str | None) -> str | None:
    """An endpoint without user:password or query string, which may carry credentials."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def default_config_path() -> Path | None:
    env = os.environ.get("VALACT_CONFIG")
    if env:
        return Path(env)
    local = Path("valact.toml")
    return local if local.exists() else None


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from a TOML file (explicit, $VALACT_CONFIG, or ./valact.toml) + env."""
    path = config if config is not None else default_config_path()
    data: dict[str, Any] = {}
    if path is not None:
        if not path.exists():
            raise FileNotFoundError(f"config file not found: {path}")
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    data.update(overrides)
    return Settings(**data)
