"""Near duplicates: what two posts share, by text (word shingles, MinHash) and by meaning
(MiniLM over the whole body), and the candidate walk's check of each post it reaches.

Why two measures: on real posts a retitled repost scored cosine 0.912 and one story cross-posted
with light edits 0.84-0.90, while distinct posts by different authors reached 0.909, so no
cosine threshold separates them. The word-shingle Jaccard of the whole body sees what a reader
compares (the same sentences), and is near 0 for distinct posts on the same topic; a pair is a
near duplicate when either measure alone is decisive or both are high (`is_near_duplicate`).

The embedding covers the whole compared text, not MiniLM's first 256 tokens: the text is cut in
chunks of `dedup.chunk_words` words, each chunk embedded once ever (cached by the sha256 of its
text and the model in `embeddings`), and a post's vector is the word-weighted mean of its chunk
vectors, normalised.

Every post's vector is a screening one (`Embedder.encode_screen`: bf16 where the CPU has it,
cached under `<model>+bf16`); the decision vectors (fp32, cached under the model's name) are
computed only for the posts in a pair whose screening cosine is within `embeddings.
screen_margin` of the cosine floor, and for MinHash neighbours (their cosine is always read). Each
pair is then decided, ranked and recorded on fp32 cosines: the decisions are the fp32 ones while
every pair's bf16 drift is below the margin (measured: at most 3.2e-3 over the 4.5M pairs of
3,011 real posts, against a 0.02 margin; `python -m bench embeddings`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.settings import DedupSettings

if TYPE_CHECKING:
    from pipeline.store import Provenance, Store

_TOKEN = re.compile(r"\w+")
# What a deleted or removed body says; it never matches another post's body.
_PLACEHOLDERS = frozenset({"removed", "deleted"})


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens: case, punctuation and whitespace do not count."""
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class Compared:
    """The normalised text two posts are compared on: the body, or title + body when the body
    is too short to stand alone (`dedup.min_body_words`)."""

    words: list[str]
    body_words: int  # of the body alone: a `same_body` check needs enough of them
    text: str  # as read by the embedding model (the original casing and punctuation)

    @property
    def sha(self) -> str:
        return hashlib.sha256(" ".join(self.words).encode()).hexdigest()


def compared(title: str, body: str, s: DedupSettings) -> Compared:
    body = body.strip()
    words = tokens(body)
    if words and set(words) <= _PLACEHOLDERS:
        words = []
    if len(words) >= s.min_body_words:
        return Compared(words, len(words), body[: s.max_chars])
    text = f"{title}\n\n{body}".strip() if words else title.strip()
    return Compared(tokens(text), len(words), text[: s.max_chars])


def same_body_key(c: Compared, s: DedupSettings) -> str | None:
    """The hash under which the same body is an exact duplicate, whatever its title; None for
    a body too short to mean anything on its own (empty, `[removed]`, a one-liner)."""
    return c.sha if c.body_words >= s.min_body_words else None


def shingles(words: Sequence[str], k: int) -> set[bytes]:
    if len(words) < k:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + k]).encode() for i in range(len(words) - k + 1)}


def jaccard(a: set[bytes], b: set[bytes]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def minhash_method(s: DedupSettings) -> str:
    return f"words{s.shingle_words}-perm{s.num_perm}-seed1-affine32"


def minhashes(shingle_sets: list[set[bytes]], s: DedupSettings) -> list[np.ndarray]:
    """MinHash signatures (datasketch), one uint32 array per set."""
    from datasketch import MinHash

    if not shingle_sets:
        return []
    return [
        m.hashvalues.astype(np.uint32)
        for m in MinHash.bulk(
            [sorted(x) for x in shingle_sets], num_perm=s.num_perm, seed=1, scheme="affine32"
        )
    ]


LSH_ROWS = 3  # MinHash values per band
# A band's key: its LSH_ROWS values (each below 2**32) shifted apart and xor-ed into 63 bits, a
# BIGINT computed in SQL with no overflow. Two equal bands have equal keys; a key two different
# bands share by chance only adds a candidate the exact band check drops.
_BAND_SHIFTS = tuple((31 - 15 * i) % 32 for i in range(LSH_ROWS))


def lsh_method(s: DedupSettings) -> str:
    return f"{minhash_method(s)}-rows{LSH_ROWS}"


def _band_keys_sql(values: str) -> str:
    """SQL for the list of band keys of a signature column, band b (0-based) holding values
    b * LSH_ROWS + 1 .. (b + 1) * LSH_ROWS as datasketch bands them (42 bands of 128 values)."""
    parts = [f"({values}[{LSH_ROWS} * b + {i + 1}] << {k})" for i, k in enumerate(_BAND_SHIFTS)]
    key = parts[0]
    for p in parts[1:]:
        key = f"xor({key}, {p})"
    return f"list_transform(range(len({values}) // {LSH_ROWS}), lambda b: {key})"


def write_bands(
    store: Store, prov: Provenance, texts: str | None = None, method: str | None = None
) -> int:
    """Band keys for the cached signatures that have none yet (those of `method`, of the
    texts in `texts`, a query with a `sha` column; or all), each computed once, in the store.
    The texts are found on their hashes alone, so a run with a few new ones reads only theirs."""
    from pipeline.store import table_columns

    con = store.con
    names = ", ".join(f'"{c}"' for c in table_columns("minhash_bands"))
    bands = f"m.method || '-rows{LSH_ROWS}'"
    only = "" if texts is None else f"SEMI JOIN ({texts}) p ON p.sha = m.text_sha"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lsh_todo AS SELECT m.text_sha, m.method "
        f"FROM minhashes m {only} "
        f"ANTI JOIN minhash_bands b ON b.text_sha = m.text_sha AND b.method = {bands} "
        "WHERE m.method = coalesce(?, m.method)",
        [method],
    )
    try:
        row = con.execute(
            f"INSERT INTO minhash_bands ({names}) "
            f"SELECT m.text_sha, {bands}, {_band_keys_sql('m.hashvalues')}, ?, ?, ?, "
            "m.text_sha, ?, now() FROM lsh_todo t JOIN minhashes m USING (text_sha, method)",
            [prov.stage, prov.version, prov.signature, prov.run_id],
        ).fetchone()
    finally:
        con.execute("DROP TABLE lsh_todo")
    return int(row[0]) if row else 0


class NeighbourIndex:
    """MinHash LSH (datasketch) in memory: finds, for a post, the earlier kept posts
    sharing many of their shingles, without comparing it with every post; each hit is then
    checked on its MinHash estimate (at least `dedup.pair_jaccard`). `StoreLSH` decides the
    same in the store, for a pool of millions; this one is the reference its tests and
    `bench/funnel.py` compare it with.

    Bands of 3 values (42 bands of 128): a pair at Jaccard J is found with probability
    1 - (1 - J^3)^42, 99.5% at 0.5 (the Jaccard-alone threshold), 93% at 0.4, 68% at 0.3, and
    a pair of distinct posts (J about 0.02) one time in 3,000, so a query reads a handful of
    candidates, not a share of the pool (2-value bands read 2.5% of it)."""

    def __init__(self, s: DedupSettings) -> None:
        from datasketch import MinHashLSH

        self.s = s
        bands = s.num_perm // LSH_ROWS
        self.lsh = MinHashLSH(num_perm=s.num_perm, params=(bands, LSH_ROWS))
        self.signatures: dict[str, np.ndarray] = {}

    def _minhash(self, signature: np.ndarray) -> Any:
        from datasketch import LeanMinHash

        return LeanMinHash(seed=1, hashvalues=signature, scheme="affine32")

    def add(self, key: str, signature: np.ndarray) -> None:
        if key not in self.signatures:
            self.signatures[key] = signature
            self.lsh.insert(key, self._minhash(signature), check_duplication=False)

    def query(self, signature: np.ndarray) -> list[tuple[str, float]]:
        """Indexed keys with their estimated Jaccard at least `pair_jaccard`, best first."""
        hits = []
        for key in self.lsh.query(self._minhash(signature)):
            estimate = float(np.mean(self.signatures[key] == signature))
            if estimate >= self.s.pair_jaccard:
                hits.append((key, estimate))
        return sorted(hits, key=lambda h: (-h[1], h[0]))


# The posts an LSH walk starts from: those an earlier run kept (their text's hash).
KEPT_POOL = "SELECT post_id, body_sha FROM dedup WHERE keep ORDER BY post_id"
# Walk positions whose pairs (or signatures) are read in one query: few queries, small reads.
_STORE_CHUNK = 4_096


class StoreLSH:
    """MinHash LSH in the store, for the dedup walk over millions of posts: the same bands,
    candidates and estimates as `NeighbourIndex`, found by SQL joins that DuckDB runs within
    `store.memory_limit` (spilling to disk), where the in-memory index holds every kept post's
    signature and 42 band entries in Python.

    The walk gives every post it will decide, in order (`add`), then `link` finds all pairs
    (new post, earlier post of the pool) sharing a band key, keeps those that share a band
    exactly with an estimated Jaccard of at least `dedup.pair_jaccard`, and `query` returns
    a post's pairs whose earlier post was kept: stored kept posts (`pool`), and the posts of
    this walk it `keep`s. Band keys are cached per signature (`minhash_bands`), so a run with
    a few new posts computes only theirs."""

    def __init__(self, store: Store, s: DedupSettings, prov: Provenance, pool: str = KEPT_POOL):
        self.store, self.s, self.prov = store, s, prov
        self.con = store.con
        self.added = 0
        self.pairs = 0
        self.banded = 0
        self._lo = self._hi = 0  # the chunk of positions whose pairs are loaded
        self._loaded: dict[int, list[tuple[int, str, float]]] = {}
        self._kept_now: set[int] = set()  # kept positions of the loaded chunk
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE lsh_pool (pos BIGINT, post_id VARCHAR, sha VARCHAR)"
        )
        self.con.execute("CREATE OR REPLACE TEMP TABLE lsh_kept (pos BIGINT)")
        self.con.execute(
            f"INSERT INTO lsh_pool SELECT -row_number() OVER (), post_id, body_sha FROM ({pool})"
        )

    def add(self, posts: Sequence[tuple[str, str]]) -> None:
        """The next posts of the walk: (post id, compared-text hash), in decision order."""
        import pyarrow as pa

        rows = pa.table(  # noqa: F841 - referenced by name in the SQL
            {
                "pos": list(range(self.added, self.added + len(posts))),
                "post_id": [p for p, _ in posts],
                "sha": [h for _, h in posts],
            }
        )
        self.con.execute("INSERT INTO lsh_pool SELECT pos, post_id, sha FROM rows")
        self.added += len(posts)

    def link(self) -> int:
        """Band keys for the new signatures, then the checked pairs; returns their number.

        In steps, each a temporary table DuckDB can spill: the pairs of posts sharing a band
        key (the band keys of the pool are read, not its signatures), then the signatures of
        the posts in a pair only, to check the band exactly and estimate the Jaccard."""
        if not self.added:
            return 0
        self.banded = write_bands(
            self.store, self.prov, "SELECT sha FROM lsh_pool WHERE pos >= 0", minhash_method(self.s)
        )
        r = LSH_ROWS
        params = {"bands": lsh_method(self.s)}
        unnest = "unnest(b.buckets) AS bucket, generate_subscripts(b.buckets, 1) AS band"
        # Pairs (new post, earlier post) sharing a band key, by position: no text hash in the
        # join, which for a fresh build pairs 42 keys a post with 42 keys a post.
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE lsh_hits AS
            WITH new_bands AS (
                SELECT p.pos, {unnest}
                FROM lsh_pool p JOIN minhash_bands b ON b.text_sha = p.sha AND b.method = $bands
                WHERE p.pos >= 0),
            pool_bands AS (
                SELECT p.pos, {unnest}
                FROM lsh_pool p JOIN minhash_bands b ON b.text_sha = p.sha AND b.method = $bands)
            SELECT n.pos, o.pos AS opos, list(n.band) AS shared
            FROM new_bands n JOIN pool_bands o
                ON o.band = n.band AND o.bucket = n.bucket AND o.pos < n.pos
            GROUP BY n.pos, o.pos""",
            params,
        )
        self.con.execute(
            """CREATE OR REPLACE TEMP TABLE lsh_sigs AS
            SELECT p.pos, p.post_id, m.hashvalues AS h
            FROM (SELECT pos FROM lsh_hits UNION SELECT opos FROM lsh_hits) need
            JOIN lsh_pool p USING (pos)
            JOIN minhashes m ON m.text_sha = p.sha AND m.method = $method""",
            {"method": minhash_method(self.s)},
        )
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE lsh_pairs AS
            SELECT * FROM (
                SELECT h.pos, h.opos, o.post_id AS other,
                    len(list_filter(range(1, len(a.h) + 1), lambda i: a.h[i] = o.h[i]))
                        / len(a.h) AS est
                FROM lsh_hits h JOIN lsh_sigs a ON a.pos = h.pos JOIN lsh_sigs o ON o.pos = h.opos
                WHERE list_bool_or(list_transform(h.shared,
                    lambda b: a.h[{r} * b - {r - 1} : {r} * b] = o.h[{r} * b - {r - 1} : {r} * b])))
            WHERE est >= $floor ORDER BY pos, opos""",
            {"floor": self.s.pair_jaccard},
        )
        for table in ("lsh_hits", "lsh_sigs"):
            self.con.execute(f"DROP TABLE {table}")
        self.pairs = int(self.store.scalar("SELECT count(*) FROM lsh_pairs"))
        return self.pairs

    def _load(self, pos: int) -> None:
        """The pairs of the chunk of positions from `pos`, with their earlier post kept, or in
        the chunk (whether that one is kept is known when it is queried)."""
        import pyarrow as pa

        if self._kept_now:
            kept = pa.table({"pos": sorted(self._kept_now)})  # noqa: F841 - in the SQL
            self.con.execute("INSERT INTO lsh_kept SELECT pos FROM kept")
            self._kept_now = set()
        self._lo, self._hi = pos, pos + _STORE_CHUNK
        self._loaded = {}
        for p, opos, other, est in self.con.execute(
            "SELECT pos, opos, other, est FROM lsh_pairs WHERE pos >= ? AND pos < ? "
            "AND (opos < 0 OR opos >= ? OR opos IN (SELECT pos FROM lsh_kept))",
            [self._lo, self._hi, self._lo],
        ).fetchall():
            self._loaded.setdefault(p, []).append((opos, other, est))

    def query(self, pos: int) -> list[tuple[str, float]]:
        """The kept earlier posts of the walk's post `pos` with their estimated Jaccard, best
        first (as `NeighbourIndex.query`); positions are queried in increasing order."""
        if not self._lo <= pos < self._hi:
            self._load(pos)
        hits = [
            (other, est)
            for opos, other, est in self._loaded.get(pos, [])
            if opos < self._lo or opos in self._kept_now
        ]
        return sorted(hits, key=lambda h: (-h[1], h[0]))

    def keep(self, pos: int) -> None:
        """The walk kept its post `pos`: later posts may match it."""
        self._kept_now.add(pos)

    def close(self) -> None:
        for t in ("lsh_pairs", "lsh_pool", "lsh_kept"):
            self.con.execute(f"DROP TABLE IF EXISTS {t}")


class MemoryLSH:
    """`StoreLSH`'s interface over the in-memory `NeighbourIndex`: the dedup walk as it was
    before the store-backed index (every kept post's signature and bands in Python, the walk's
    signatures read a chunk at a time), the reference of the tests and `bench/funnel.py`."""

    def __init__(self, store: Store, s: DedupSettings, prov: Provenance, pool: str = KEPT_POOL):
        self.store, self.s = store, s
        self.index = NeighbourIndex(s)
        self.posts: list[tuple[str, str]] = []
        self.sigs: dict[str, np.ndarray] = {}  # of the chunk of positions being walked
        self._hi = 0
        self.pairs = self.banded = self.added = 0
        reader = store.con.sql(
            f"SELECT p.post_id, m.hashvalues FROM ({pool}) p JOIN minhashes m "
            "ON m.text_sha = p.body_sha AND m.method = ? ORDER BY p.post_id",
            params=[minhash_method(s)],
        ).to_arrow_reader(_STORE_CHUNK)
        for batch in reader:
            for key, sig in zip(batch.column(0).to_pylist(), self._values(batch), strict=True):
                self.index.add(key, sig)

    def _values(self, batch: Any) -> np.ndarray:
        import pyarrow.compute as pc

        flat = pc.list_flatten(batch.column(1)).to_numpy().astype(np.uint32)
        return flat.reshape(-1, self.s.num_perm)

    def add(self, posts: Sequence[tuple[str, str]]) -> None:
        self.posts += posts
        self.added = len(self.posts)

    def link(self) -> int:
        return 0

    def query(self, pos: int) -> list[tuple[str, float]]:
        if pos >= self._hi:
            self._hi = pos + _STORE_CHUNK
            shas = sorted({h for _, h in self.posts[pos : self._hi]})
            batch = self.store.con.sql(
                "SELECT text_sha, hashvalues FROM minhashes WHERE method = ? "
                "AND text_sha IN (SELECT unnest(?))",
                params=[minhash_method(self.s), shas],
            ).to_arrow_table()
            self.sigs = dict(zip(batch.column(0).to_pylist(), self._values(batch), strict=True))
        return self.index.query(self.sigs[self.posts[pos][1]])

    def keep(self, pos: int) -> None:
        post_id, sha = self.posts[pos]
        self.index.add(post_id, self.sigs[sha])

    def close(self) -> None:
        pass


def lsh_neighbours(
    store: Store, s: DedupSettings, text_sha: str, exclude: str = "", pool: str = KEPT_POOL
) -> list[tuple[str, float]]:
    """On demand: the posts of `pool` (the kept posts; not `exclude`) whose text shares an LSH
    band with the text `text_sha` (its signature and bands cached), with their estimated
    Jaccard, at least `pair_jaccard`, best first: what `StoreLSH.query` gives in the walk."""
    r = LSH_ROWS
    rows = store.con.execute(
        f"""WITH mine AS (
            SELECT unnest(buckets) AS bucket, generate_subscripts(buckets, 1) AS band
            FROM minhash_bands WHERE text_sha = $sha AND method = $bands),
        matched AS (
            SELECT t.text_sha AS sha, list(m.band) AS shared
            FROM (
                SELECT text_sha, unnest(buckets) AS bucket, generate_subscripts(buckets, 1) AS band
                FROM minhash_bands WHERE method = $bands
            ) t JOIN mine m ON m.band = t.band AND m.bucket = t.bucket
            GROUP BY t.text_sha),
        hits AS (
            SELECT p.post_id, h.sha, h.shared
            FROM matched h JOIN ({pool}) p ON p.body_sha = h.sha
            WHERE p.post_id <> $exclude),
        me AS (SELECT hashvalues AS a FROM minhashes WHERE text_sha = $sha AND method = $method)
        SELECT h.post_id, len(list_filter(range(1, len(a) + 1), lambda i: a[i] = o.hashvalues[i]))
            / len(a) AS est
        FROM hits h JOIN minhashes o ON o.text_sha = h.sha AND o.method = $method, me
        WHERE list_bool_or(list_transform(h.shared,
            lambda b: a[{r} * b - {r - 1} : {r} * b] = o.hashvalues[{r} * b - {r - 1} : {r} * b]))
        """,
        {"sha": text_sha, "exclude": exclude, "bands": lsh_method(s), "method": minhash_method(s)},
    ).fetchall()
    hits = [(p, float(e)) for p, e in rows if e >= s.pair_jaccard]
    return sorted(hits, key=lambda h: (-h[1], h[0]))


def is_near_duplicate(cosine: float | None, jac: float, s: DedupSettings) -> bool:
    """The post-level rule: the Jaccard alone, the cosine alone, or both at the pair floors."""
    if jac >= s.jaccard_threshold:
        return True
    if cosine is None:
        return False
    return cosine >= s.near_dup_threshold or (cosine >= s.pair_cosine and jac >= s.pair_jaccard)


def chunks(text: str, chunk_words: int) -> list[str]:
    """The text in pieces of `chunk_words` words (about 200 MiniLM tokens for 150 words, within
    the 256 it reads), so the embedding sees all of it."""
    words = text.split()
    if not words:
        return [""]
    return [" ".join(words[i : i + chunk_words]) for i in range(0, len(words), chunk_words)]


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def pool_vectors(chunk_vectors: Sequence[np.ndarray], weights: Sequence[int]) -> np.ndarray:
    """One unit vector for a text: the word-weighted mean of its chunk vectors."""
    v = np.average(np.vstack(chunk_vectors), axis=0, weights=np.asarray(weights, float))
    norm = float(np.linalg.norm(v))
    return (v / norm if norm else v).astype(np.float32)


# What `vectors_for` needs from the embedding cache: chunk sha -> vector lookups, and storing
# newly embedded ones; the stage passes functions over the store.
Lookup = Callable[[list[str]], dict[str, np.ndarray]]
Save = Callable[[dict[str, np.ndarray]], None]
# Compared texts -> their decision (fp32) vectors, for the walk's pairs near a threshold.
Exact = Callable[[list[str]], list[np.ndarray]]


@dataclass
class EmbedStats:
    texts: int = 0  # texts (posts, released scenarios) given a vector
    embedded_texts: int = 0  # texts with at least one chunk not cached before
    embedded_chunks: int = 0


def vectors_for(
    texts: list[str],
    s: DedupSettings,
    encode: Callable[[list[str]], np.ndarray],
    lookup: Lookup,
    save: Save,
    stats: EmbedStats | None = None,
) -> list[np.ndarray]:
    """A unit vector per text from its chunks, embedding (in one call) only the chunks not
    cached yet."""
    pieces = [chunks(t, s.chunk_words) for t in texts]
    shas = [[text_sha(c) for c in p] for p in pieces]
    cached = lookup(sorted({h for hs in shas for h in hs}))
    missing: dict[str, str] = {}
    for p, hs in zip(pieces, shas, strict=True):
        for c, h in zip(p, hs, strict=True):
            if h not in cached:
                missing.setdefault(h, c)
    if missing:
        vecs = encode(list(missing.values()))
        new = dict(zip(missing, vecs, strict=True))
        save(new)
        cached.update(new)
    if stats is not None:
        stats.texts += len(texts)
        stats.embedded_texts += sum(any(h in missing for h in hs) for hs in shas)
        stats.embedded_chunks += len(missing)
    return [
        pool_vectors([cached[h] for h in hs], [max(1, len(c.split())) for c in p])
        for p, hs in zip(pieces, shas, strict=True)
    ]


@dataclass(frozen=True)
class Released:
    """A scenario of an earlier release, as the walk compares it."""

    key: str  # <version>/<scenario id>
    post_id: str
    compared: Compared


def earlier_releases(releases_dir: Path, current: str) -> list[str]:
    """Versions released before `current` (complete folders: they hold a manifest)."""
    from packaging.version import InvalidVersion, Version

    def parse(v: str) -> Version | None:
        try:
            return Version(v)
        except InvalidVersion:
            return None

    now = parse(current)
    out: list[str] = []
    if not releases_dir.is_dir():
        return out
    for folder in sorted(releases_dir.iterdir()):
        if folder.name.startswith(".") or not (folder / "manifest.json").is_file():
            continue
        v = parse(folder.name)
        if folder.name != current and (now is None or v is None or v < now):
            out.append(folder.name)
    return out


def released_scenarios(
    releases_dir: Path, current: str, s: DedupSettings
) -> tuple[list[Released], list[str]]:
    """Every scenario of every earlier release, and the versions read."""
    import duckdb

    versions = earlier_releases(releases_dir, current)
    out: list[Released] = []
    con = duckdb.connect()
    try:
        for v in versions:
            files = sorted((releases_dir / v / "scenarios").glob("*.parquet"))
            if not files:
                continue
            rows = con.execute(
                "SELECT scenario_id, post_id, title, text FROM read_parquet(?) "
                "ORDER BY scenario_id",
                [[str(f) for f in files]],
            ).fetchall()
            out += [
                Released(f"{v}/{sid}", pid, compared(title or "", text or "", s))
                for sid, pid, title, text in rows
            ]
    finally:
        con.close()
    return out, versions


@dataclass
class Match:
    other: str
    cosine: float | None
    jaccard: float


@dataclass
class Features:
    compared: Compared
    shingles: set[bytes]
    vector: np.ndarray  # screening vector (the decision vector when the walk does not screen)
    exact: np.ndarray | None = None  # decision vector, once a pair needs it


@dataclass
class Walk:
    """The near-duplicate state of the candidate walk: the candidates kept so far (every
    category), the earlier releases, and a post's pool neighbours (from `dedup`).

    A decision depends only on the post, the candidates reached before it, the releases and
    its neighbours, so it is recomputed every run from cached vectors, in the walk's order,
    and a rebuild decides as a fresh build does.

    With `margin` > 0 and `exact`, the vectors held are screening ones: a pair is a candidate
    at screening cosine `floor - margin`, then decided on decision vectors (`exact`, fetched
    once per post and scenario, in one call per wave where `prefetch` is used)."""

    s: DedupSettings
    released: list[Released]
    released_vectors: np.ndarray
    reselect_released: bool
    kept_ids: list[str] = field(default_factory=list)
    kept_vectors: list[np.ndarray] = field(default_factory=list)
    features: dict[str, Features] = field(default_factory=dict)
    _matrix: np.ndarray | None = None
    margin: float = 0.0
    exact: Exact | None = None
    released_exact: dict[int, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.released_posts = {r.post_id: r.key for r in self.released}
        self.released_bodies = {
            k: r.key for r in self.released if (k := same_body_key(r.compared, self.s))
        }
        self.released_shingles = [
            shingles(r.compared.words, self.s.shingle_words) for r in self.released
        ]

    def check_released(self, post_id: str) -> tuple[str | None, Match | None]:
        """The checks that need no vector: a post an earlier release published, or the same
        body as one of its scenarios."""
        f = self.features[post_id]
        if post_id in self.released_posts and not self.reselect_released:
            return "released_before", Match(self.released_posts[post_id], 1.0, 1.0)
        key = same_body_key(f.compared, self.s)
        if key and key in self.released_bodies:
            other = self.released_bodies[key]
            if not (self.reselect_released and self.released_posts.get(post_id) == other):
                return "released_before", Match(other, 1.0, 1.0)
        return None, None

    def kept_matrix(self) -> np.ndarray:
        if self._matrix is None or len(self._matrix) != len(self.kept_vectors):
            self._matrix = (
                np.vstack(self.kept_vectors) if self.kept_vectors else np.zeros((0, 0), np.float32)
            )
        return self._matrix

    @property
    def screened(self) -> bool:
        return self.margin > 0 and self.exact is not None

    @property
    def floor(self) -> float:
        """The lowest cosine any rule reads; pairs below it are decided by the Jaccard alone."""
        return min(self.s.pair_cosine, self.s.near_dup_threshold)

    def fetch(self, post_ids: Iterable[str], released: Iterable[int] = ()) -> None:
        """Decision vectors for these posts and released scenarios (rows), in one call for
        those not fetched yet."""
        if not self.screened:
            return
        assert self.exact is not None
        posts = [p for p in dict.fromkeys(post_ids) if self.features[p].exact is None]
        rows = [i for i in dict.fromkeys(released) if i not in self.released_exact]
        if not posts and not rows:
            return
        texts = [self.features[p].compared.text for p in posts]
        vectors = self.exact(texts + [self.released[i].compared.text for i in rows])
        for p, v in zip(posts, vectors[: len(posts)], strict=True):
            self.features[p].exact = v
        self.released_exact.update(zip(rows, vectors[len(posts) :], strict=True))

    def decision_vector(self, post_id: str) -> np.ndarray:
        f = self.features[post_id]
        if not self.screened:
            return f.vector
        if f.exact is None:
            self.fetch([post_id])
        assert f.exact is not None
        return f.exact

    def _released_decision_vector(self, row: int) -> np.ndarray:
        if not self.screened:
            return self.released_vectors[row]
        if row not in self.released_exact:
            self.fetch([], [row])
        return self.released_exact[row]

    def _screen_floor(self) -> float:
        return self.floor - self.margin if self.screened else self.floor

    def prefetch(self, post_ids: Sequence[str], neighbours: dict[str, list[str]]) -> None:
        """Fetch, in one call, the decision vectors `check` may need for these posts: every
        loaded post or released scenario within the screening floor of one of them, and their
        MinHash neighbours (a superset: the walk keeps only some of the loaded posts)."""
        if not self.screened or not post_ids:
            return
        lo = self._screen_floor()
        ids = list(self.features)
        matrix = np.vstack([self.features[k].vector for k in ids])
        wave = np.vstack([self.features[p].vector for p in post_ids])
        posts: list[str] = []
        rows: list[int] = []
        for p, sims in zip(post_ids, wave @ matrix.T, strict=True):
            near = [ids[i] for i in np.flatnonzero(sims >= lo) if ids[i] != p]
            near += [n for n in neighbours.get(p, []) if n in self.features and n != p]
            mine: list[int] = []
            if len(self.released):
                to_released = self.released_vectors @ self.features[p].vector
                mine = np.flatnonzero(to_released >= lo).tolist()
            rows += mine
            if near or mine:
                posts += [p, *near]
        self.fetch(posts, rows)

    def _ranked(
        self, fx: np.ndarray, others: list[tuple[str, np.ndarray, set[bytes]]]
    ) -> list[tuple[str, np.ndarray, set[bytes]]]:
        """The candidates at or above the floor on decision vectors, closest first (ties in
        the order given)."""
        if not others:
            return []
        sims = np.array([float(v @ fx) for _, v, _ in others])
        return [others[i] for i in np.argsort(-sims, kind="stable") if sims[i] >= self.floor]

    def check(self, post_id: str, neighbours: Iterable[str]) -> tuple[str | None, Match | None]:
        """(reason, match) for a post whose features (and its neighbours') are loaded: reason
        None keeps it, with its closest match for the record."""
        reason, found = self.check_released(post_id)
        if reason:
            return reason, found
        f = self.features[post_id]
        s = self.s
        best: Match | None = None
        lo = self._screen_floor()
        others = [n for n in neighbours if n in self.features and n != post_id]
        rows: list[int] = []
        if len(self.released):
            sims = self.released_vectors @ f.vector
            rows = [
                int(i)
                for i in np.flatnonzero(sims >= lo)
                if not (self.reselect_released and self.released[i].post_id == post_id)
            ]
        close_ids: list[str] = []
        if self.kept_vectors:
            sims = self.kept_matrix() @ f.vector
            close_ids = [self.kept_ids[i] for i in np.flatnonzero(sims >= lo)]
        if rows or close_ids or others:
            self.fetch([post_id, *close_ids, *others], rows)
        fx = self.decision_vector(post_id) if rows or close_ids or others else f.vector

        def consider(reason: str, others: list[tuple[str, np.ndarray, set[bytes]]]):
            nonlocal best
            for other, vec, sh in others:
                cos = float(vec @ fx)
                jac = jaccard(f.shingles, sh)
                m = Match(other, round(cos, 4), round(jac, 4))
                if is_near_duplicate(cos, jac, s):
                    return reason, m
                if best is None or (m.cosine or 0) > (best.cosine or 0):
                    best = m
            return None

        close = [
            (self.released[i].key, self._released_decision_vector(i), self.released_shingles[i])
            for i in rows
        ]
        if hit := consider("released_before", self._ranked(fx, close)):
            return hit
        kept = [(k, self.decision_vector(k), self.features[k].shingles) for k in close_ids]
        if found := consider("near_duplicate", self._ranked(fx, kept)):
            return found
        found = consider(
            "near_duplicate",
            [(k, self.decision_vector(k), self.features[k].shingles) for k in others],
        )
        if found:
            return found
        return None, best

    def keep(self, post_id: str) -> None:
        self.kept_ids.append(post_id)
        self.kept_vectors.append(self.features[post_id].vector)


@dataclass(frozen=True)
class PairScore:
    """What the pipeline measures on a pair of posts, and its verdict."""

    exact: str | None  # exact_duplicate | same_body | None
    cosine: float
    jaccard: float

    def duplicate(self, s: DedupSettings) -> bool:
        return self.exact is not None or (
            s.near_dup and is_near_duplicate(self.cosine, self.jaccard, s)
        )


def score_pairs(
    pairs: Sequence[tuple[tuple[str, str], tuple[str, str]]],
    s: DedupSettings,
    encode: Callable[[list[str]], np.ndarray],
) -> list[PairScore]:
    """Each ((title, body), (title, body)) pair scored as the funnel does: the exact checks of
    `pipeline.dedup`, the whole-text Jaccard and the chunked embedding cosine."""
    from pipeline.text import content_hash

    texts = [compared(t, b, s) for pair in pairs for t, b in pair]
    vectors = vectors_for([c.text for c in texts], s, encode, lambda _: {}, lambda _: None)
    out = []
    for i, ((ta, ba), (tb, bb)) in enumerate(pairs):
        ca, cb = texts[2 * i], texts[2 * i + 1]
        exact = None
        if content_hash(ta, ba) == content_hash(tb, bb):
            exact = "exact_duplicate"
        elif (k := same_body_key(ca, s)) and k == same_body_key(cb, s):
            exact = "same_body"
        jac = jaccard(shingles(ca.words, s.shingle_words), shingles(cb.words, s.shingle_words))
        cos = float(vectors[2 * i] @ vectors[2 * i + 1])
        out.append(PairScore(exact, round(cos, 4), round(jac, 4)))
    return out
