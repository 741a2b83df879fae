"""The one typed settings object: defaults < `valact.toml` < `VALACT_*` environment variables.

Defaults reproduce the study (17 subreddits, 5 categories x 600 scenarios); the repo's
`valact.toml` shrinks the sizes for the bundled sample.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tomllib
import types
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from schemas.values import SchwartzValue

OFFLINE_PREFIX = "offline/"
ENV_PREFIX = "VALACT_"
ENV_DELIMITER = "__"
CONFIG_ENV = "VALACT_CONFIG"

# Names that end up in ids, file names and folder names: strict, so none can hold a path.
CATEGORY_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
# Reddit's rule is 2-21 characters; one-letter names are allowed for tests and toy configs.
SUBREDDIT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{0,20}")
RELEASE_VERSION = re.compile(r"(?=.{1,64}\Z)[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?")
RELEASE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}")
RELEASE_SPLIT = re.compile(r"[a-z][a-z0-9_]{0,31}")


def matches(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    """A validator: the whole value matches `pattern`; `what` says what a valid one is."""

    def check(value: str) -> str:
        if ".." in value or not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return check


def _existing_folder_or_new(path: Path) -> Path:
    """A folder the pipeline reads or writes may be missing, but must not be (in) a file."""
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                where = "" if folder == path else f" inside {folder}, which"
                raise ValueError(f"{path}{where} is a file, not a folder")
            break
    return path


Folder = Annotated[Path, AfterValidator(_existing_folder_or_new)]


class StrictModel(BaseModel):
    """A settings model that refuses unknown keys: a misspelt key would keep the default."""

    model_config = ConfigDict(extra="forbid")


class Category(StrictModel):
    name: Annotated[
        str,
        AfterValidator(
            matches(
                CATEGORY_NAME,
                "a category name: 1-40 lowercase letters, digits, '-' or '_', starting with a "
                "letter or digit",
            )
        ),
    ]
    subreddits: list[
        Annotated[
            str,
            AfterValidator(
                matches(
                    SUBREDDIT_NAME,
                    "a subreddit name: up to 21 letters, digits or '_', starting with a letter "
                    "or digit, without 'r/'",
                )
            ),
        ]
    ]

    @field_validator("subreddits")
    @classmethod
    def _subreddits(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("a category needs at least one subreddit")
        return value


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


class TableImport(StrictModel):
    """A researcher's own scrape as CSV or Parquet (`[[source.imports]]`): which files, and
    which of their columns hold each post field. Unmapped fields keep their dump names (`id`,
    `subreddit`, `title`, `selftext`, `created_utc`, `author`, `score`, `num_comments`, ...)."""

    # Glob relative to source.raw_dir, e.g. "imports/*.csv".
    path: str
    format: Literal["csv", "parquet"] | None = None  # None: from the file name
    # Post field -> the file's column, e.g. {"selftext" = "body", "created_utc" = "timestamp"}.
    columns: dict[str, str] = {}
    # For files of one subreddit that have no subreddit column.
    subreddit: (
        Annotated[str, AfterValidator(matches(SUBREDDIT_NAME, "a subreddit name"))] | None
    ) = None

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        if value.startswith("/") or ".." in Path(value).parts:
            raise ValueError(f"{value!r}: an import path is a pattern inside source.raw_dir")
        return value


class SourceSettings(StrictModel):
    raw_dir: Folder = Path("data/raw")
    patterns: list[str] = ["**/*.ndjson.zst", "**/*.zst", "**/*.ndjson", "**/*.jsonl"]
    max_line_bytes: int = Field(1_000_000, ge=1_000)
    # The bundled sample is synthetic; the release card must not call its posts Reddit's.
    synthetic: bool = False
    # Posts created in [date_from, date_to) (UTC dates); a dump record outside is skipped
    # before it is parsed.
    date_from: date | None = None
    date_to: date | None = None
    imports: list[TableImport] = []
    # Read dump files in parallel on Dask (prefect-dask): "local" starts a LocalCluster of
    # `workers` processes, an address ("tcp://scheduler:8786") uses an existing cluster; None
    # reads them one after another in this process.
    dask: str | None = None
    workers: int = Field(2, ge=1, le=256)

    @model_validator(mode="after")
    def _dates(self) -> SourceSettings:
        if self.date_from and self.date_to and self.date_from >= self.date_to:
            raise ValueError("source.date_from must be before source.date_to")
        return self


class RedditSettings(StrictModel):
    """Live Reddit through praw, with praw's own setting names (or a praw.ini `site`).
    Secrets are never logged, stored or written to a summary."""

    client_id: str | None = None
    client_secret: SecretStr | None = None
    user_agent: str = "python:valact-pipeline:0.1 (research dataset builder)"
    username: str | None = None
    password: SecretStr | None = None
    site: str | None = None  # a praw.ini section instead of the fields above
    # Where praw talks to; a proxy or a test server can stand in for Reddit.
    oauth_url: str = "https://oauth.reddit.com"
    reddit_url: str = "https://www.reddit.com"
    listings: list[Literal["new", "top"]] = ["new", "top"]
    time_filter: Literal["hour", "day", "week", "month", "year", "all"] = "week"
    # Posts per listing and subreddit; Reddit stops listings at about 1,000.
    limit: int = Field(1_000, ge=1, le=1_000)
    timeout_s: float = Field(30.0, gt=0)
    # A rate-limit wait longer than this stops the scrape cleanly (what was fetched is kept).
    max_wait_s: float = Field(900.0, ge=0)
    max_retries: int = Field(4, ge=0)

    @property
    def configured(self) -> bool:
        return bool(self.site or (self.client_id and self.client_secret))


class RescrapeSettings(StrictModel):
    """The scheduled `rescrape` deployment."""

    cron: str = "0 6 * * *"  # daily at 06:00
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(f"{value!r} is not a cron expression (minute hour day month weekday)")
        return value


class PrefilterSettings(StrictModel):
    min_words: int = Field(40, ge=0)
    max_chars: int = Field(20_000, ge=100)
    allow_nsfw: bool = False
    # Share of tokens that are common English function words; calibrated on real posts
    # (see README, "Calibration").
    min_english_ratio: float = Field(0.18, ge=0, le=1)
    drop_stickied: bool = True
    # Posts by bots: these names (any case) and names ending in a separated or CamelCase "bot"
    # (RemindMeBot, tweet_bot) or "-ModTeam".
    drop_bots: bool = True
    bot_authors: list[str] = Field(
        [
            "AutoModerator",
            "sneakpeekbot",
            "totesmessenger",
            "haikusbot",
            "stabbot",
            "savevideo",
            "vredditshare",
        ],
        validate_default=True,
    )
    # Megathreads, weekly/daily threads, meta and moderator posts (by title).
    drop_meta_posts: bool = True
    # Follow-ups of an earlier post ("UPDATE: ...", "[update]", "This is an update to ...").
    drop_updates: bool = True
    # A post whose url points away from its own text (another site, an image, another post)
    # is kept only with at least this many words of its own.
    drop_link_posts: bool = True
    link_post_min_words: int = Field(100, ge=0)

    @field_validator("bot_authors")
    @classmethod
    def _lower(cls, names: list[str]) -> list[str]:
        """Reddit names are case-insensitive: compared lower-cased."""
        return sorted({n.strip().lower() for n in names if n.strip()})


class DedupSettings(StrictModel):
    """The funnel's duplicate rules (`pipeline.dedup` on every post, `pipeline.near_dup` on
    the candidates the judge walk reaches); thresholds chosen on `tests/fixtures/
    dedup_pairs.jsonl` (`scripts/eval_dedup.py`, README)."""

    # False: only crossposts and exact duplicates are dropped (pools of templated test posts).
    near_dup: bool = True
    # A pair is a near duplicate when the embedding cosine alone reaches this, ...
    near_dup_threshold: float = Field(0.95, gt=0, le=1)
    # ... or the word-shingle Jaccard of the whole compared text alone reaches this (checked
    # on every post, through MinHash LSH, with no model), ...
    jaccard_threshold: float = Field(0.5, gt=0, le=1)
    # ... or both the cosine and the Jaccard reach these (light edits, a new title, a repost
    # with an update). Neighbours in the pool at this Jaccard are compared with the cosine.
    pair_cosine: float = Field(0.8, gt=0, le=1)
    pair_jaccard: float = Field(0.1, gt=0, le=1)
    # A body with fewer words is compared with its title; only a body with at least this many
    # words is hashed on its own (a new title on the same body is an exact duplicate).
    min_body_words: int = Field(25, ge=1)
    shingle_words: int = Field(3, ge=1, le=8)
    num_perm: int = Field(128, ge=16, le=1024)
    embedding_model: str | None = None  # a local path; None = the bundled MiniLM package
    batch_size: int = Field(64, ge=1)
    # Text embedded per post (the whole body, in chunks the model reads whole).
    max_chars: int = Field(20_000, ge=100)
    chunk_words: int = Field(150, ge=16)
    # Candidates embedded together when the judge walk reaches one not embedded yet.
    wave: int = Field(64, ge=1)
    # Posts telling the story of a scenario of an earlier release (a repost, a cross-post, the
    # same body) are never selected again. True: the released posts themselves may be, so a
    # new version grows the earlier one. False: a new version holds new stories only.
    reselect_released_posts: bool = True


class StoreSettings(StrictModel):
    """The DuckDB store. Its memory is capped so that a large ingest spills to disk (next to
    the store) instead of growing with the source; `threads` None: one per core."""

    memory_limit: Annotated[
        str,
        AfterValidator(
            matches(
                re.compile(r"[1-9][0-9]{0,5}(?:\.[0-9]+)?\s?(?:[KMGT]i?B|%)"),
                "a DuckDB memory size such as '1GB', '512MiB' or '50%'",
            )
        ),
    ] = "1GB"
    threads: int | None = Field(None, ge=1, le=256)


class EmbeddingSettings(StrictModel):
    """How texts are turned into vectors (the model itself is `dedup.embedding_model`).

    `torch` is the fp32 reference; `onnx` runs a `torch.onnx` export of the same model on ONNX
    Runtime, checked against it at load (falls back to `torch` with a note); both record vectors
    under the model's name. `bf16` (autocast) is faster where the CPU has bf16 instructions but
    moves vectors, so it records them under `<model>+bf16`. `auto` = `torch`: on long posts
    ONNX Runtime measured no faster (both run near the CPU's fp32 matrix-product ceiling).
    Exact decisions at bf16 speed: the near-duplicate walk (`pipeline.near_dup.Walk`) screens
    with `Embedder.encode_screen` (bf16 where the CPU has it; `screen = "off"`: fp32 alone) and
    decides the pairs within `screen_margin` of the cosine floor on fp32 vectors; so does
    `pipeline.vector_index.screened_pairs`.
    """

    backend: Literal["auto", "torch", "onnx", "bf16"] = "auto"
    threads: int | None = Field(None, ge=1)  # None = every core
    onnx_dir: Path | None = None  # where exports are cached; None = <processed_dir>/models
    onnx_tolerance: float = Field(1e-5, gt=0, le=1e-2)  # max L2 distance to the fp32 vector
    screen: Literal["bf16", "off"] = "bf16"  # the fast vectors `encode_screen` gives
    screen_margin: float = Field(0.02, ge=0, le=0.5)  # cosine band re-checked in fp32
    # Threads encoding batches side by side, each on one torch thread (torch's own threads wait
    # on each other at every operation; on 2 shared cores this measured 1.3x fp32's posts per
    # CPU-second, 2.2x with bf16). None = one per torch thread; 1 = one call on torch's threads.
    workers: int | None = Field(None, ge=1)


PIIKind = Literal["EMAIL", "PHONE", "URL", "USER", "NAME"]
PII_KINDS: list[PIIKind] = ["EMAIL", "PHONE", "URL", "USER", "NAME"]


class PIISettings(StrictModel):
    """Personal information replaced by typed placeholders in every text leaving the store
    (model prompts, releases): `pipeline/pii.py`."""

    enabled: bool = True
    kinds: list[PIIKind] = Field(default_factory=lambda: list(PII_KINDS))
    # Names come from a word list plus context, the least certain recognizer: off keeps the rest.
    names: bool = True


ENDPOINT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
ENV_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
DEFAULT_ENDPOINT = "default"


class Price(StrictModel):
    """US dollars per million tokens."""

    input_usd_per_mtok: float = Field(0.0, ge=0)
    output_usd_per_mtok: float = Field(0.0, ge=0)


class EndpointLimits(StrictModel):
    """What one endpoint allows and costs. Limits are the provider's (or the server's
    capacity); leaving one unset means no limit."""

    max_in_flight: int = Field(32, ge=1, le=1024)
    requests_per_minute: float | None = Field(None, gt=0)
    tokens_per_minute: float | None = Field(None, gt=0)
    input_usd_per_mtok: float = Field(0.0, ge=0)
    output_usd_per_mtok: float = Field(0.0, ge=0)
    # Model -> price, where one endpoint serves models at different prices.
    prices: dict[str, Price] = {}
    # Send uncached requests through the OpenAI Batch API (files + batches endpoints).
    batch: bool = False
    # The provider's discount on batch requests (OpenAI: half price).
    batch_price_factor: float = Field(0.5, ge=0, le=1)

    def price(self, model: str) -> Price:
        return self.prices.get(model) or Price(
            input_usd_per_mtok=self.input_usd_per_mtok,
            output_usd_per_mtok=self.output_usd_per_mtok,
        )


class EndpointSettings(EndpointLimits):
    """A named OpenAI-compatible endpoint (`[llm.endpoints.NAME]`) and the models it serves."""

    base_url: str
    # The environment variable holding the key (the key itself never goes in a file); unset
    # for local servers that take none.
    api_key_env: (
        Annotated[
            str,
            AfterValidator(matches(ENV_VAR_NAME, "an environment variable name (A-Z, 0-9, _)")),
        ]
        | None
    ) = None
    models: list[str] = Field(min_length=1)


class LLMSettings(EndpointLimits):
    """OpenAI-compatible endpoints (OpenAI, vLLM, Ollama, llama.cpp server, Together, ...).

    `base_url` (with `api_key` and the limits on this section) is the shorthand for one
    endpoint, "default", that serves every model no named endpoint lists. Only an explicit
    endpoint turns model calls on, so an OPENAI_API_KEY in someone's shell never makes
    `make dataset` spend money; that key is used when no VALACT key is given.
    """

    base_url: str | None = None
    api_key: SecretStr | None = None
    endpoints: dict[
        Annotated[
            str,
            AfterValidator(
                matches(ENDPOINT_NAME, "an endpoint name: 1-32 lowercase letters, digits, - or _")
            ),
        ],
        EndpointSettings,
    ] = {}
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(4, ge=0)
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int = Field(256, ge=16)
    invalid_answer_retries: int = Field(2, ge=0)
    # A request with no valid answer in this many runs in a row is given up (not sent again)
    # until `valact retry-failed`.
    give_up_after_runs: int = Field(3, ge=1)
    # Circuit breaker per endpoint: stop the stage after this many authentication errors
    # (401/403) in a row, or this many failed requests of any kind in a row.
    max_auth_errors: int = Field(3, ge=1)
    max_consecutive_failures: int = Field(20, ge=1)
    # Stop a run's model stages before their requests would cost more than this (US dollars,
    # at the endpoints' prices); answers so far are kept and the next run goes on from there.
    spend_cap_usd: float | None = Field(None, ge=0)
    # Batch API: how often to poll a batch, and how long one run waits for it before stopping
    # cleanly (the next run collects the same batch).
    batch_poll_s: float = Field(30.0, gt=0)
    batch_max_wait_s: float = Field(3600.0, ge=0)

    @model_validator(mode="after")
    def _one_endpoint_per_model(self) -> LLMSettings:
        seen: dict[str, str] = {}
        for name, endpoint in self.endpoints.items():
            for model in endpoint.models:
                if model in seen:
                    raise ValueError(
                        f"model {model!r} is listed by endpoints {seen[model]!r} and {name!r}"
                    )
                seen[model] = name
        if DEFAULT_ENDPOINT in self.endpoints:
            raise ValueError(
                f"{DEFAULT_ENDPOINT!r} names the llm.base_url endpoint; give yours another name"
            )
        return self

    @property
    def configured(self) -> bool:
        return bool(self.base_url or self.endpoints)

    def endpoint_name(self, model: str) -> str | None:
        """The endpoint serving `model`: the named one listing it, else the default one."""
        for name, endpoint in self.endpoints.items():
            if model in endpoint.models:
                return name
        return DEFAULT_ENDPOINT if self.base_url else None

    def limits(self, name: str) -> EndpointLimits:
        return self if name == DEFAULT_ENDPOINT else self.endpoints[name]

    def url(self, name: str) -> str | None:
        return self.base_url if name == DEFAULT_ENDPOINT else self.endpoints[name].base_url

    def key(self, name: str = DEFAULT_ENDPOINT) -> str:
        """The endpoint's key ("" if none): for the default one VALACT_LLM__API_KEY, else
        OPENAI_API_KEY; for a named one the variable its `api_key_env` names."""
        if name != DEFAULT_ENDPOINT:
            var = self.endpoints[name].api_key_env
            return os.environ.get(var, "") if var else ""
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY", "")

    def key_hint(self, name: str) -> str:
        """Which settings to check when the endpoint refuses or fails."""
        if name == DEFAULT_ENDPOINT:
            return "VALACT_LLM__API_KEY (or OPENAI_API_KEY) and VALACT_LLM__BASE_URL"
        var = self.endpoints[name].api_key_env
        key = f"${var}" if var else "its key (no api_key_env set)"
        return f"{key} and llm.endpoints.{name}.base_url"

    def cost(self, model: str, prompt_tokens: float, completion_tokens: float) -> float:
        """US dollars for tokens sent to `model` at its endpoint's prices (0 if unpriced)."""
        name = self.endpoint_name(model)
        if name is None:
            return 0.0
        price = self.limits(name).price(model)
        return (
            prompt_tokens * price.input_usd_per_mtok + completion_tokens * price.output_usd_per_mtok
        ) / 1e6


class JudgeSettings(StrictModel):
    models: list[str] = ["gpt-4o-mini", "llama-3.1-8b-instruct"]
    tiebreaker: str = "qwen2.5-7b-instruct"
    offline_models: list[str] = [
        f"{OFFLINE_PREFIX}decision-rules",
        f"{OFFLINE_PREFIX}context-rules",
    ]
    # The offline tiebreaker weighs both offline judges' scores (pipeline/llm/offline_judge.py).
    offline_tiebreaker: str = f"{OFFLINE_PREFIX}combined-score"
    # Judge in seeded order only until each category has this many times its quota accepted.
    oversample: float = Field(2.0, ge=1)

    @model_validator(mode="after")
    def _two_judges(self) -> JudgeSettings:
        if len(self.models) != 2 or len(self.offline_models) != 2:
            raise ValueError("the judge panel has exactly two models plus a tiebreaker")
        return self


class GenerationSettings(StrictModel):
    models: list[str] = ["gpt-4o-mini", "llama-3.1-8b-instruct"]
    offline_models: list[str] = [f"{OFFLINE_PREFIX}template-a", f"{OFFLINE_PREFIX}template-b"]
    max_sentences: int = Field(2, ge=1)
    max_words: int = Field(60, ge=5)
    # per_scenario: as the study did, one request per scenario and generator for all ten
    # actions (a JSON object keyed by value); rejected ones are sent back on their own.
    # per_value: one request per action.
    mode: Literal["per_scenario", "per_value"] = "per_scenario"

    @model_validator(mode="after")
    def _two_generators(self) -> GenerationSettings:
        if len(self.models) != 2 or len(self.offline_models) != 2:
            raise ValueError("ValAct uses exactly two generator models (20 actions per scenario)")
        return self


class AnnotationSettings(StrictModel):
    models: list[str] = ["gpt-4o-mini"]
    offline_models: list[str] = [f"{OFFLINE_PREFIX}minilm-values"]


class GateSettings(StrictModel):
    """The value-check gate (`pipeline.gate`): an action is valid when at least `min_agreeing`
    of the first `annotators` configured annotators name the value it was written for. One that
    is not is re-asked of its generator up to `max_attempts` times, each re-ask naming the value
    it was read as; one still not recovered is dropped, and its scenario with it, replaced by the
    next eligible post of its category (up to `max_rounds` refill rounds a build; the next build
    goes on). `enforce = false` records the verdicts and changes nothing."""

    enforce: bool = True
    annotators: int | None = Field(None, ge=1)  # N; None: every configured annotator
    min_agreeing: int | None = Field(None, ge=1)  # k; None: more than half of N
    max_attempts: int = Field(2, ge=0)
    max_rounds: int = Field(3, ge=0)

    def quorum(self, configured: int) -> tuple[int, int]:
        """(k, N) for `configured` annotators."""
        n = self.annotators or configured
        if n > configured:
            raise ValueError(f"gate.annotators is {n} but {configured} annotator(s) are configured")
        k = self.min_agreeing or n // 2 + 1
        if k > n:
            raise ValueError(f"gate.min_agreeing ({k}) is more than gate.annotators ({n})")
        return k, n


class HumanAnnotationSettings(StrictModel):
    """`valact annotate export`: how many actions people are asked to label, drawn evenly
    across value x category cells in a seeded order (scenarios scrubbed as `pii` says)."""

    sample_size: int = Field(200, ge=1)


class SamplingSettings(StrictModel):
    per_category: int = Field(600, ge=1)


class QuestionSettings(StrictModel):
    options_per_question: int = Field(4, ge=2)
    max_attempts: int = Field(10_000, ge=1)


class ReleaseSettings(StrictModel):
    name: Annotated[
        str,
        AfterValidator(
            matches(
                RELEASE_NAME,
                "a release name: 1-64 letters, digits, spaces, '.', '-' or '_', starting with a "
                "letter or digit",
            )
        ),
    ] = "ValAct"
    # The version names the release folder: '..' or '' would write outside it.
    version: Annotated[
        str,
        AfterValidator(
            matches(
                RELEASE_VERSION,
                "a version like 1.2.0 or 1.2.0-rc.1 (at most 64 characters, no '..')",
            )
        ),
    ] = "0.1.0"
    split: Annotated[
        str,
        AfterValidator(
            matches(
                RELEASE_SPLIT,
                "a split name: 1-32 lowercase letters, digits or '_', starting with a letter",
            )
        ),
    ] = "test"
    # Covers what the pipeline adds (actions, questions, annotations); the card says that the
    # post text stays its authors' under Reddit's terms.
    licence: str = "cc-by-4.0"
    # full: the post text (scrubbed of personal information); masked: as the study released
    # it, the title and text left out (post id and permalink stay) because of Reddit's terms;
    # `valact rehydrate` puts them back, checked against `text_sha256`.
    text_policy: Literal["full", "masked"] = "full"
    # Write a release even when requested work is missing (actions, annotations, questions);
    # the card and manifest then say so.
    allow_partial: bool = False


class PublishSettings(StrictModel):
    """Where `valact publish` puts releases by default (and the `rescrape` deployment each new
    one): `hf://OWNER/NAME` on the Hugging Face Hub (`HF_ENDPOINT` for another Hub; the token
    from `HF_TOKEN` or the login cache, never from here)."""

    target: str | None = None
    private: bool = False

    @field_validator("target")
    @classmethod
    def _hub_repo(cls, value: str | None) -> str | None:
        if value is not None:
            from pipeline.errors import PipelineError
            from pipeline.publish import parse_target

            try:
                parse_target(value)
            except PipelineError as err:
                raise ValueError(str(err)) from None
        return value


# Settings that change where a build reads and writes, or how fast, never what it makes.
WHERE_AND_HOW_FAST = (
    "processed_dir",
    "source.raw_dir",
    "source.dask",
    "source.workers",
    "store",
    "publish",
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        extra="forbid",
        validate_default=True,
    )

    processed_dir: Folder = Path("data/processed")
    seed: int = 20260101
    store: StoreSettings = StoreSettings()
    categories: list[Category] = Field(default_factory=_study_categories)
    source: SourceSettings = SourceSettings()
    reddit: RedditSettings = RedditSettings()
    rescrape: RescrapeSettings = RescrapeSettings()
    prefilter: PrefilterSettings = PrefilterSettings()
    dedup: DedupSettings = DedupSettings()
    embeddings: EmbeddingSettings = EmbeddingSettings()
    pii: PIISettings = PIISettings()
    llm: LLMSettings = LLMSettings()
    judge: JudgeSettings = JudgeSettings()
    generation: GenerationSettings = GenerationSettings()
    annotation: AnnotationSettings = AnnotationSettings()
    gate: GateSettings = GateSettings()
    human: HumanAnnotationSettings = HumanAnnotationSettings()
    sampling: SamplingSettings = SamplingSettings()
    questions: QuestionSettings = QuestionSettings()
    release: ReleaseSettings = ReleaseSettings()
    publish: PublishSettings = PublishSettings()

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[Category]) -> list[Category]:
        if not value:
            raise ValueError("no categories: a build needs at least one")
        names = [c.name for c in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"category {', '.join(map(repr, twice))} is listed more than once")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.llm.configured:
            unserved = [
                f"{model} ({role})"
                for role, models in self.model_roles().items()
                for model in models
                if self.llm.endpoint_name(model) is None
            ]
            if unserved:
                raise ValueError(
                    f"no endpoint serves {', '.join(unserved)}: list the model under an "
                    "[llm.endpoints.NAME] models, or set llm.base_url for every model"
                )
        subs = [s.lower() for c in self.categories for s in c.subreddits]
        if len(subs) != len(set(subs)):
            raise ValueError("a subreddit is listed in more than one category")
        self.gate.quorum(len(self.annotator_models()))  # k <= N <= annotators configured
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

    def model_roles(self) -> dict[str, list[str]]:
        """Role -> the models this build asks in it."""
        judges, tiebreaker = self.judge_models()
        return {
            "judges": judges,
            "tiebreaker": [tiebreaker],
            "generators": self.generator_models(),
            "annotators": self.annotator_models(),
        }

    def public_dict(self) -> dict[str, Any]:
        """Settings without secrets or machine-local paths: what provenance may record."""
        data = self.model_dump(mode="json", exclude={"processed_dir"})
        data["llm"].pop("api_key", None)
        for secret in ("client_secret", "password"):
            data["reddit"].pop(secret, None)
        data["llm"]["base_url"] = redact_url(self.llm.base_url)
        for endpoint in data["llm"]["endpoints"].values():
            endpoint["base_url"] = redact_url(endpoint["base_url"])
        return data

    def section_hash(self, *sections: str) -> str:
        """Hash of the whole settings (or some sections), for run summaries and manifests."""
        return hashlib.sha256(
            json.dumps(self.pick(*sections), sort_keys=True).encode()
        ).hexdigest()[:16]

    def content_hash(self) -> str:
        """Hash of the settings that decide a release's content: all but where things are and
        how fast they run (folders, Dask, the store's memory, the publish target), so two
        builds in two folders with the same settings and seed show the same hash."""
        data = self.public_dict()
        for path in WHERE_AND_HOW_FAST:
            *parents, last = path.split(".")
            node = data
            for part in parents:
                node = node.get(part, {})
            node.pop(last, None)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

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
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    local = Path("valact.toml")
    return local if local.exists() else None


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from a TOML file (explicit, $VALACT_CONFIG, or ./valact.toml) + env.

    Every mistake is a `ValueError` with a one-line message (a `SettingsValidationError`
    when pydantic found it), so the command line can print it as it is.
    """
    check_environment()
    path = config if config is not None else default_config_path()
    data: dict[str, Any] = {}
    if path is not None:
        if path.is_dir():
            raise ValueError(f"config file {path} is a folder, not a TOML file")
        if not path.exists():
            raise FileNotFoundError(f"config file not found: {path}")
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"config file {path} is not valid TOML: {err}") from None
    data.update(overrides)
    try:
        return Settings(**data)
    except ValidationError as err:
        raise SettingsValidationError.from_validation_error(err) from None


class SettingsValidationError(ValidationError):
    """Pydantic's errors as one line (`sampling.per_category: ...; dedup.batch_size: ...`).

    Still a `ValidationError` (so a `ValueError`): callers that catch either keep working.
    """

    @classmethod
    def from_validation_error(cls, err: ValidationError) -> SettingsValidationError:
        details: list[InitErrorDetails] = []
        for e in err.errors(include_url=False):
            detail = InitErrorDetails(type=e["type"], loc=e["loc"], input=e["input"])
            if "ctx" in e:
                detail["ctx"] = e["ctx"]
            details.append(detail)
        return cls.from_exception_data(err.title, details)

    def __str__(self) -> str:
        return describe_errors(self)


def describe_errors(err: ValidationError) -> str:
    """One readable line per error, joined by '; ': `where: what`, with a hint for a typo."""
    lines = []
    for e in err.errors(include_url=False, include_context=False):
        loc = tuple(e["loc"])
        where = ".".join(str(part) for part in loc)
        kind, msg = e["type"], e["msg"]
        if kind == "extra_forbidden":
            parent = ".".join(str(part) for part in loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), _fields_at(loc[:-1]), n=1)
            msg = "unknown setting"
            if close:
                msg += f" (did you mean {parent + '.' if parent else ''}{close[0]}?)"
        elif kind in ("value_error", "assertion_error"):
            msg = msg.split(", ", 1)[-1]
        else:
            msg = msg[:1].lower() + msg[1:]
            value = e["input"]
            secret = any(part in ("api_key", "base_url") for part in loc)
            if not secret and isinstance(value, str | int | float) and len(repr(value)) <= 60:
                msg += f" (got {value!r})"
        lines.append(f"{where}: {msg}" if where else msg)
    return "; ".join(lines).replace("\n", "\\n")  # a quoted TOML key may hold a newline


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Refuse `VALACT_*` variables that name no setting.

    pydantic-settings ignores them, so a typo (`VALACT_PROCESSD_DIR`) would silently build
    with the default instead. Names are case-insensitive and nest on `__`, as pydantic-settings
    reads them; a list or section is set whole (`VALACT_JUDGE__MODELS='["a", "b"]'`).
    """
    env = os.environ if environ is None else environ
    known = sorted(_env_names(Settings))
    unknown = []
    for key in sorted(env):
        upper = key.upper()
        if not upper.startswith(ENV_PREFIX) or upper == CONFIG_ENV:
            continue
        rest = key[len(ENV_PREFIX) :].lower()
        if _is_setting(rest.split(ENV_DELIMITER)):
            continue
        close = difflib.get_close_matches(rest, known, n=1)
        hint = f" (did you mean {ENV_PREFIX}{close[0].upper()}?)" if close else ""
        unknown.append(f"unknown setting {key}{hint}")
    if unknown:
        raise ValueError("; ".join(unknown))


def _section_model(annotation: Any, *, lists: bool = False) -> type[BaseModel] | None:
    """The model a field holds (`X`, `X | None`; with `lists`, also `list[X]`), if any."""
    if get_origin(annotation) in (Union, types.UnionType):
        models = [_section_model(a, lists=lists) for a in get_args(annotation)]
        return next((m for m in models if m is not None), None)
    if lists and get_origin(annotation) is list:
        return _section_model(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _env_names(model: type[BaseModel]) -> Iterator[str]:
    """Every settings path as an environment name without the prefix (`llm__base_url`)."""
    for name, field in model.model_fields.items():
        yield name
        section = _section_model(field.annotation)
        if section is not None:
            yield from (f"{name}{ENV_DELIMITER}{sub}" for sub in _env_names(section))


def _is_setting(parts: list[str]) -> bool:
    """Whether each part names a field of the section before it (a leaf ends the path)."""
    model: type[BaseModel] | None = Settings
    for part in parts:
        if model is None or part not in model.model_fields:
            return False
        model = _section_model(model.model_fields[part].annotation)
    return True


def _fields_at(loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the section at an error location (list indices step into items)."""
    model: type[BaseModel] | None = Settings
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if model is not None else None
        if field is None:
            return []
        model = _section_model(field.annotation, lists=True)
    return list(model.model_fields) if model is not None else []
