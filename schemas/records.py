"""What each stage writes to the store. Table names and keys live in `schemas.tables`."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SourceFile(BaseModel):
    """A raw dump file already read; ingest skips it while its sha256 and the ingest signature
    are the same and no subreddit was added since (`subreddits`: those it was read for)."""

    sha256: str
    signature: str
    subreddits: list[str]
    path: str
    lines: int
    posts: int
    rejects: int


class IngestReject(BaseModel):
    """A raw line that could not become a Post, kept with the reason."""

    source_sha256: str
    line_no: int
    source_file: str
    reason: str
    detail: str
    snippet: str


class Post(BaseModel):
    """One Reddit submission, normalised from a dump or API record.

    Its category is not stored: it comes from the settings when the post is read, so moving a
    subreddit to another category needs no re-ingest. `content_sha` fingerprints everything
    later stages read, so their stored results can tell when a post changed.
    """

    post_id: str
    subreddit: str
    title: str
    selftext: str
    author: str | None
    created_utc: int
    over_18: bool
    stickied: bool
    crosspost_parent: str | None
    permalink: str | None
    url: str | None
    score: int | None
    num_comments: int | None
    # Why Reddit took the post down, when it did: its `removed_by_category` ("moderator",
    # "deleted", "automod_filtered", ...), else "deleted"/"removed" for a `[deleted]`/`[removed]`
    # text. It changes while a post lives, so it is not part of `content_sha`.
    removed: str | None = None
    source_file: str
    source_line: int
    content_sha: str


class ScrapeState(BaseModel):
    """Where the last scrape of one subreddit's listing got to (`subreddit` lower-cased, as
    Reddit names are case-insensitive). For `new`, the newest post a complete pass reached:
    the next scrape stops paginating once it reaches a post at or older than it. A pass that
    stopped early (a rate-limit wait, failing pages) leaves the mark where it was, so the next
    one fetches the gap. `top` is re-fetched whole each time (its order is by score)."""

    subreddit: str
    listing: str  # new | top
    newest_created_utc: int | None
    newest_id: str | None
    last_run_id: str
    fetched: int  # posts the last scrape received (new and seen before)
    new_posts: int
    # Why the last scrape ended: end (of the listing), cap (it ended on a full page: Reddit's
    # ~1,000 cap), watermark, limit (reddit.limit), rate_limited, or a failure such as http_503.
    stopped: str


class FilterDecision(BaseModel):
    """Rule pre-filter verdict for one post; `reason` says why it was dropped."""

    post_id: str
    category: str | None  # from the settings' category list; None: not configured
    keep: bool
    reason: str | None
    detail: str | None


class Embedding(BaseModel):
    """Content-addressed: keyed by the sha256 of the text embedded, so any post with that text
    (and any later run, whatever its thresholds) reuses the vector."""

    text_sha: str
    model: str
    vector: list[float]


class DedupDecision(BaseModel):
    """The cheap checks every post gets, oldest first: a crosspost, the same title and body,
    the same body, or a whole-body word-shingle Jaccard at `dedup.jaccard_threshold`."""

    post_id: str
    content_hash: str  # title + body: what later exact-duplicate checks compare with
    keep: bool
    # crosspost | exact_duplicate | same_body | near_duplicate (by text alone)
    reason: str | None
    duplicate_of: str | None
    similarity: float | None  # the Jaccard of a near_duplicate
    # The normalised text compared (the body, or title + body when the body is short) and its
    # word count: same_body needs `dedup.min_body_words`; MinHash signatures are keyed by it.
    body_sha: str
    body_words: int
    # Earlier kept posts sharing enough shingles (MinHash LSH) for the candidate walk to
    # compare it with them by embedding too, and their estimated Jaccard.
    neighbours: list[str]
    neighbour_jaccard: list[float]


class MinHashSignature(BaseModel):
    """Content-addressed like `Embedding`: the MinHash of a normalised text's word shingles
    (`method` names the shingle size, permutations and seed)."""

    text_sha: str
    method: str
    hashvalues: list[int]


class MinHashBands(BaseModel):
    """The LSH band keys of a cached `MinHashSignature`: one integer per band of `LSH_ROWS`
    values (`pipeline.near_dup`), so that the posts sharing a band are found by a join in the
    store instead of in an in-memory index of every post. `method` is the signature's, with the
    rows per band."""

    text_sha: str
    method: str
    buckets: list[int]


class NearDupDecision(BaseModel):
    """The candidate walk's check of one post it reached, before the judge sees it: against the
    candidates it reached before, every scenario of every earlier release and the post's own
    neighbours in the pool, by embedding cosine and word-shingle Jaccard."""

    post_id: str
    keep: bool
    reason: str | None  # near_duplicate | released_before
    duplicate_of: str | None  # a post id, or <release version>/<scenario id>
    cosine: float | None  # of the closest match (the one dropped for, when dropped)
    jaccard: float | None


class JudgeVote(BaseModel):
    post_id: str
    model: str
    role: str  # judge | tiebreaker
    is_decision: bool | None  # None: the model gave no valid answer
    reason: str
    request_id: str


class PanelDecision(BaseModel):
    post_id: str
    keep: bool  # no row at all while a model gives no valid answer
    votes: list[str]
    tiebreak_used: bool
    reason: str


class Scenario(BaseModel):
    scenario_id: str
    post_id: str
    category: str
    subreddit: str
    title: str
    text: str
    created_utc: int
    permalink: str | None
    sample_rank: int


class Action(BaseModel):
    action_id: str
    scenario_id: str
    generator: str
    value: str
    text: str
    placeholder: bool = Field(description="True for offline template text, not a model's")
    request_id: str


class Annotation(BaseModel):
    action_id: str
    annotator: str
    value: str  # the value it was written for
    predicted_value: str | None
    agrees: bool | None
    request_id: str
    # The annotator's probability per value, in `SchwartzValue` order (Self-Direction first),
    # where it has them (the offline annotator); None for an annotator that names one value.
    scores: list[float] | None = None


class Regeneration(BaseModel):
    """One re-ask of an action its annotators read as another value (`pipeline.gate`)."""

    action_id: str
    attempt: int  # 1 for the first re-ask
    scenario_id: str
    value: str  # the value it was written for
    generator: str
    read_as: str | None  # what the text before it was read as: the re-ask names it
    text: str | None  # None: no valid action came back
    request_id: str
    predicted_values: list[str | None]  # one per gate annotator, in the settings' order
    agreeing: int
    passed: bool


class GateAction(BaseModel):
    """The value check's verdict on an action: the text that stands (as written, or its last
    regeneration) and how many of the gate's annotators recovered its value."""

    action_id: str
    scenario_id: str
    generator: str
    value: str
    text: str
    request_id: str  # of the request that wrote `text`
    regenerations: int  # re-asks made (0: passed as written)
    annotators: list[str]
    predicted_values: list[str | None]
    agreeing: int
    passed: bool
    reason: str | None  # read_as_other | no_valid_regeneration (when not passed)
    detail: str | None


class GateScenario(BaseModel):
    """A scenario kept (all its candidates valid) or dropped (`too_few_valid_actions`); a
    dropped one stays recorded after it leaves `scenarios`, so sampling takes the next eligible
    post of its category instead, until the gate's settings or upstream prompts change."""

    scenario_id: str
    post_id: str
    category: str
    content_sha: str  # of the post when judged: a changed post is judged afresh
    keep: bool
    reason: str | None
    valid_actions: int
    detail: str | None


class Question(BaseModel):
    question_id: str
    scenario_id: str
    question_index: int
    action_ids: list[str]
    values: list[str]


class LLMCall(BaseModel):
    """The per-request cache: a request's sha256 -> the validated answer."""

    request_id: str
    task: str
    model: str
    backend: str
    prompt_version: str
    request_json: str
    response_json: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float


class LLMFailure(BaseModel):
    """A request with no valid answer. After `runs` consecutive failing runs reach the
    setting `llm.give_up_after_runs` it is given up (not sent again) until `retry-failed`."""

    request_id: str
    task: str
    model: str
    item_key: str
    reason: str
    attempts: int
    runs: int
    last_run_id: str
    given_up: bool
