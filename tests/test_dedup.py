import numpy as np
import pytest

from pipeline import dedup, ingest, prefilter
from pipeline.context import RunContext
from pipeline.embeddings import Embedder
from pipeline.settings import Settings
from tests.conftest import submission, write_dump

ORIGINAL = submission("orig1")["selftext"]
OTHER = (
    "My younger brother asked me to co-sign the lease on his first apartment. He has a new job "
    "but no credit history, and the last time I lent him money it took two years to get it "
    "back. My wife says family comes first; I worry it will hurt our savings and our "
    "relationship if he misses rent. Should I co-sign or tell him to find a cheaper place?"
)


@pytest.fixture(autouse=True)
def _near_dup_on(settings: Settings) -> None:
    """conftest turns the check off for templated pools; here it is what is tested."""
    settings.dedup.near_dup = True


def _run(ctx: RunContext):
    ingest.run(ctx)
    prefilter.run(ctx)
    return dedup.run(ctx)


def test_embedder_gives_unit_vectors(embedder: Embedder) -> None:
    v = embedder.encode(["Should I quit my job?", "Should I leave my job?", "pasta recipe"])
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2]


def test_exact_body_near_and_crosspost_duplicates(ctx: RunContext) -> None:
    raw = ctx.settings.source.raw_dir
    write_dump(
        raw / "RS_1.zst",
        [
            submission("orig1", created_utc=1_790_000_100),
            submission(
                "other", created_utc=1_790_000_110, title="Co-sign for my brother?", selftext=OTHER
            ),
            # same title and text, different id and casing/spacing: an exact repost
            submission(
                "exact",
                created_utc=1_790_000_120,
                title="should i take the OFFER (orig1)?",
                selftext=ORIGINAL.replace(" ", "  "),
            ),
            # small edits: a near duplicate by the whole body's shingles, no model needed
            submission(
                "near1",
                created_utc=1_790_000_130,
                selftext=ORIGINAL + " Edit: thanks everyone, still thinking.",
            ),
            submission(
                "xpost", created_utc=1_790_000_140, subreddit="AskHR", crosspost_parent="t3_orig1"
            ),
            # the same body under a new title
            submission("retitled", created_utc=1_790_000_150, title="Startup or stay? Need help"),
        ],
    )
    r = _run(ctx)
    decisions = {
        d["post_id"]: (d["keep"], d["reason"], d["duplicate_of"])
        for d in ctx.store.query("SELECT * FROM dedup")
    }
    assert decisions == {
        "orig1": (True, None, None),
        "other": (True, None, None),
        "exact": (False, "exact_duplicate", "orig1"),
        "near1": (False, "near_duplicate", "orig1"),
        "xpost": (False, "crosspost", "orig1"),
        "retitled": (False, "same_body", "orig1"),
    }
    assert r.dropped == {
        "exact_duplicate": 1,
        "near_duplicate": 1,
        "crosspost": 1,
        "same_body": 1,
    }
    assert ctx.store.count("embeddings") == 0  # no model on every post
    assert ctx.store.count("minhashes") == 3  # one per distinct text, cached

    # A later batch is compared with what earlier runs kept.
    write_dump(
        raw / "RS_2.zst",
        [
            submission(
                "late",
                created_utc=1_790_000_200,
                title="Co-sign for my brother??",
                selftext=OTHER + " Update: he found a roommate.",
            ),
        ],
    )
    r2 = _run(ctx)
    assert (r2.processed, r2.skipped, r2.dropped) == (1, 6, {"near_duplicate": 1})
    again = dedup.run(ctx)
    assert again.processed == 0


def test_empty_and_removed_bodies_never_match_by_body(ctx: RunContext) -> None:
    long_title = "Should I move across the country for a job I am not sure about, {}?"
    write_dump(
        ctx.settings.source.raw_dir / "RS_1.zst",
        [
            submission(
                f"e{i}", created_utc=1_790_000_100 + i, title=long_title.format(i), selftext=body
            )
            for i, body in enumerate(["", "[removed]", "", "[deleted]", "ok", "ok"])
        ],
    )
    ctx.settings.prefilter.min_words = 1
    ingest.run(ctx)
    prefilter.run(ctx)
    ctx.store.con.execute("UPDATE prefilter SET keep = true, reason = NULL")
    dedup.run(ctx)
    reasons = {r["reason"] for r in ctx.store.query("SELECT reason FROM dedup")}
    assert "same_body" not in reasons


def test_near_dup_pairs_are_caught_without_false_drops(embedder: Embedder) -> None:
    """The labelled pairs (scripts/make_dedup_pairs.py): at least the precision and recall
    measured when the thresholds were chosen (README)."""
    from pathlib import Path

    from pipeline.near_dup import score_pairs
    from pipeline.settings import DedupSettings
    from scripts.eval_dedup import load, metrics

    rows = load(Path(__file__).parent / "fixtures" / "dedup_pairs.jsonl")
    assert len(rows) >= 60
    s = DedupSettings()
    scores = score_pairs(
        [((r["a"]["title"], r["a"]["body"]), (r["b"]["title"], r["b"]["body"])) for r in rows],
        s,
        embedder.encode,
    )
    m = metrics([r["duplicate"] for r in rows], [x.duplicate(s) for x in scores])
    assert m["precision"] >= 1.0 and m["recall"] >= 0.975, m


def _stories() -> list[tuple[str, str]]:
    """Distinct, realistic advice posts (the labelled pairs' originals and look-alikes)."""
    from scripts.make_dedup_pairs import LOOKALIKES, STORIES

    out = [(t, b) for stories in STORIES.values() for _, t, b, _, _ in stories]
    return out + [(t, b) for _, t, b in LOOKALIKES.values()]


def _dedup_story_pool(ctx: RunContext) -> None:
    """The labelled stories as posts, deduplicated, with quotas of 2 and no oversampling."""
    ctx.settings.sampling.per_category = 2
    ctx.settings.judge.oversample = 1.0
    posts = [
        submission(f"s{i}", created_utc=1_790_000_000 + i, title=t, selftext=b)
        for i, (t, b) in enumerate(_stories())
    ]
    write_dump(ctx.settings.source.raw_dir / "RS_1.zst", posts)
    _run(ctx)


def test_the_walk_embeds_only_the_candidates_it_reaches(ctx: RunContext) -> None:
    from pipeline import judge

    _dedup_story_pool(ctx)
    kept = ctx.store.count("dedup", "keep")
    r = judge.run(ctx)
    reached = r.counters["candidates_reached"]
    assert reached < kept / 3
    assert r.counters["posts_embedded"] <= reached + 8  # one small wave beyond the quota
    assert ctx.store.count("near_dup") == reached
    again = judge.run(ctx)
    assert again.counters["posts_embedded"] == 0 and again.processed == 0


def test_embedding_model_from_a_configured_local_path(tmp_path) -> None:
    import shutil

    import pytest

    from pipeline.embeddings import bundled_model_path

    local = tmp_path / "my-minilm"
    shutil.copytree(bundled_model_path(), local)
    e = Embedder(str(local))
    assert e.name == "my-minilm" and e.encode(["a decision"]).shape == (1, 384)
    with pytest.raises(FileNotFoundError, match="embedding model not found"):
        Embedder(str(tmp_path / "missing")).encode(["x"])


def _release(folder, version: str, rows: list[dict]) -> None:
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    (folder / version / "scenarios").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / version / "scenarios" / "test-0.parquet")
    (folder / version / "manifest.json").write_text(json.dumps({"version": version}))


def test_a_story_an_earlier_release_published_is_never_selected_again(ctx: RunContext) -> None:
    from pipeline import judge, sampling
    from scripts.make_dedup_pairs import STORIES

    ctx.settings.sampling.per_category = 30
    ctx.settings.release.version = "0.2.0"
    ctx.settings.dedup.reselect_released_posts = False  # disjoint releases: new stories only
    stories = _stories()
    write_dump(
        ctx.settings.source.raw_dir / "RS_1.zst",
        [
            submission(f"s{i}", created_utc=1_790_000_000 + i, title=t, selftext=b)
            for i, (t, b) in enumerate(stories)
        ],
    )
    _, _, body, edits, _ = STORIES["cosign"][0]
    edited = body
    for old, new in edits:
        edited = edited.replace(old, new)

    def row(sid: str, post_id: str, t: str, b: str) -> dict:
        return {"scenario_id": sid, "post_id": post_id, "title": t, "text": b}

    releases = ctx.settings.releases_dir
    # 0.1.0 published s1 itself and another copy of s0's story (light edits, another post)
    _release(
        releases,
        "0.1.0",
        [row("valact-s1", "s1", *stories[1]), row("valact-x9", "x9", "Brother lease", edited)],
    )
    _release(releases, "0.3.0", [row("valact-s2", "s2", *stories[2])])  # a later version
    _run(ctx)
    r = judge.run(ctx)
    nd = {
        x["post_id"]: (x["reason"], x["duplicate_of"])
        for x in ctx.store.query("SELECT * FROM near_dup WHERE NOT keep")
    }
    assert nd == {
        "s0": ("released_before", "0.1.0/valact-x9"),
        "s1": ("released_before", "0.1.0/valact-s1"),
    }
    assert r.counters["released_scenarios"] == 2
    sampling.run(ctx)
    chosen = {x["post_id"] for x in ctx.store.query("SELECT post_id FROM scenarios")}
    assert "s0" not in chosen and "s1" not in chosen and "s2" in chosen
    # a version that grows an earlier one may keep the same posts, never another copy
    ctx.settings.dedup.reselect_released_posts = True
    judge.run(ctx)
    nd = {x["post_id"] for x in ctx.store.query("SELECT * FROM near_dup WHERE NOT keep")}
    assert nd == {"s0"}


def test_blocked_search_matches_the_naive_greedy_pass() -> None:
    from pipeline.dedup import near_duplicates

    rng = np.random.default_rng(1)
    base = rng.standard_normal((60, 8)).astype(np.float32)
    vecs = np.vstack([base, base[:30] + 0.1 * rng.standard_normal((30, 8))]).astype(np.float32)
    vecs = vecs[rng.permutation(len(vecs))]
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    old, new = vecs[:20], vecs[20:]
    expected, kept = [], list(range(20))
    for i in range(len(new)):
        sims = [(float(vecs[k] @ new[i]), k) for k in kept]
        sim, k = max(sims)
        if sim >= 0.9:
            expected.append(k)
        else:
            expected.append(-1)
            kept.append(20 + i)
    got = near_duplicates(new, old, 0.9, block=7)
    assert [m for m, _ in got] == expected
    assert any(m >= 20 for m in expected) and any(m == -1 for m in expected)


def _synthetic_signatures(n: int, seed: int) -> np.ndarray:
    """MinHash-like signatures: random ones, and families of variants of an earlier one with
    a share of their values changed (estimated Jaccard from 0.95 down to below
    `pair_jaccard`), so pairs fall on every side of the thresholds and tie on estimates."""
    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, 2**32, size=(n, 128), dtype=np.uint64).astype(np.uint32)
    for i in range(1, n):
        if rng.random() < 0.3:
            j = int(rng.integers(max(0, i - 200), i))
            same = rng.random(128) < rng.choice([0.95, 0.8, 0.6, 0.45, 0.3, 0.2, 0.12, 0.05])
            sigs[i] = np.where(same, sigs[j], sigs[i])
    return sigs


def _lsh_walk(index, n: int, threshold: float) -> list[list[tuple[str, float]]]:
    """What the dedup walk asks the index: each post's hits, keeping it unless one reaches
    `threshold` (the stand-in for the exact Jaccard check)."""
    out = []
    for pos in range(n):
        hits = index.query(pos)
        out.append(hits)
        if not hits or hits[0][1] < threshold:
            index.keep(pos)
    return out


def test_the_store_lsh_finds_what_the_in_memory_lsh_finds(tmp_path) -> None:
    """On 6,000 signatures with planted near duplicates, in two runs (a pool kept by the
    first, then new posts): the same hits with the same estimates, in the same order, as
    datasketch's MinHashLSH; and on demand, a post's neighbours among all kept posts."""
    from pipeline.near_dup import MemoryLSH, NeighbourIndex, StoreLSH, lsh_neighbours
    from pipeline.settings import DedupSettings
    from pipeline.store import Provenance, Store
    from schemas import MinHashSignature

    s = DedupSettings()
    sigs = _synthetic_signatures(6_000, seed=3)
    shas = [f"{i:064x}" for i in range(len(sigs))]
    shas[10] = shas[7]  # two posts with the same text
    prov = Provenance("dedup", "t", "sig", "run")
    pool = "SELECT post_id, body_sha FROM kept ORDER BY post_id"
    results = {}
    with Store.open(tmp_path / "s.duckdb") as store:
        store.put(
            "minhashes",
            [
                MinHashSignature(text_sha=h, method="words3-perm128-seed1-affine32", hashvalues=v)
                for h, v in zip(shas, sigs.tolist(), strict=True)
            ],
            prov,
        )
        for name, cls in (("memory", MemoryLSH), ("store", StoreLSH)):
            store.con.execute("CREATE OR REPLACE TABLE kept (post_id VARCHAR, body_sha VARCHAR)")
            walks = []
            for lo, hi in ((0, 4_000), (4_000, 6_000)):
                index = cls(store, s, prov, pool=pool)
                index.add([(f"p{i:05d}", shas[i]) for i in range(lo, hi)])
                index.link()
                walks += _lsh_walk(index, hi - lo, s.jaccard_threshold)
                index.close()
                kept = [i for i in range(lo, hi) if not walks[i] or walks[i][0][1] < 0.5]
                store.con.execute(
                    "INSERT INTO kept SELECT unnest(?), unnest(?)",
                    [[f"p{i:05d}" for i in kept], [shas[i] for i in kept]],
                )
            results[name] = walks
        assert store.count("minhash_bands") == len(set(shas))  # each banded once
        memory = NeighbourIndex(s)
        for pid, sha in store.con.execute("SELECT * FROM kept").fetchall():
            memory.add(pid, sigs[int(sha, 16)])
        for i in range(0, len(sigs), 97):
            expected = [h for h in memory.query(sigs[i]) if h[0] != f"p{i:05d}"]
            assert lsh_neighbours(store, s, shas[i], f"p{i:05d}", pool) == expected, i
    assert results["store"] == results["memory"]
    hits = [h for walk in results["store"] for h in walk]
    assert len(hits) > 1_000 and {round(e, 1) for _, e in hits} >= {0.1, 0.5, 0.9}
    assert sum(1 for w in results["store"] if w and w[0][1] >= 0.5) > 300  # dropped


def _words_pool(n: int, seed: int) -> list[dict]:
    """Posts of random words, of sentences shared between posts (many pairs of distinct posts
    around `pair_jaccard`) and edited reposts of earlier posts (planted near duplicates)."""
    import random

    rng = random.Random(seed)
    vocab = ["".join(rng.choices("abcdefghijklmnop", k=rng.randrange(3, 8))) for _ in range(2_000)]
    sentences = [" ".join(rng.choices(vocab, k=rng.randrange(6, 12))) + "." for _ in range(80)]
    posts: list[dict] = []
    for i in range(n):
        kind = rng.random()
        if posts and kind < 0.3:
            words = rng.choice(posts)["selftext"].split()
            for _ in range(int(len(words) * rng.choice([0.01, 0.05, 0.1, 0.2, 0.4]))):
                words[rng.randrange(len(words))] = rng.choice(vocab)
            body = " ".join(words)
        elif kind < 0.65:
            body = " ".join(rng.sample(sentences, rng.randrange(12, 20)))
        else:
            body = " ".join(rng.choices(vocab, k=rng.randrange(150, 230)))
        posts.append(
            submission(
                f"w{i:04d}",
                created_utc=1_790_000_000 + i,
                title=f"Should I pick {rng.choice(vocab)}?",
                selftext=body,
            )
        )
    return posts


def test_dedup_decides_with_the_store_lsh_as_with_the_in_memory_one(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stage's decisions (kept, dropped and why, neighbours and their estimates) are the
    same with the store-backed LSH as with datasketch's in-memory one, over a run and a re-run
    with new posts (which bands only the new signatures)."""
    from pipeline.near_dup import MemoryLSH
    from pipeline.store import Store
    from tests.conftest import make_settings

    posts = _words_pool(600, seed=5)
    cols = (
        "post_id, keep, reason, duplicate_of, similarity, body_sha, neighbours, neighbour_jaccard"
    )

    def build(name: str, lsh: type) -> tuple[list[tuple], int]:
        monkeypatch.setattr(dedup, "LSH", lsh)
        s = make_settings(tmp_path / name, dedup={"near_dup": True}, prefilter={"min_words": 1})
        s.processed_dir.mkdir(parents=True)
        with Store.open(s.db_path) as store:
            ctx = RunContext(settings=s, store=store, run_id="test-run")
            for part, batch in enumerate((posts[:400], posts[400:])):
                write_dump(s.source.raw_dir / f"RS_{part}.zst", batch)
                ingest.run(ctx)
                prefilter.run(ctx)
                store.con.execute("UPDATE prefilter SET keep = true, reason = NULL")
                r = dedup.run(ctx)
            assert (r.skipped, r.processed) == (400, 200)
            rows = store.con.execute(f"SELECT {cols} FROM dedup ORDER BY post_id").fetchall()
            return rows, store.count("minhash_bands")

    memory, _ = build("memory", MemoryLSH)
    store, banded = build("store", dedup.StoreLSH)
    assert store == memory
    assert banded == len({r[5] for r in store})  # one per distinct text
    reasons = [r[2] for r in store]
    assert reasons.count("near_duplicate") > 50 and reasons.count(None) > 300
    assert sum(len(r[6]) for r in store if r[1]) > 100  # kept posts with neighbours


def test_a_store_embedded_in_fp32_is_screened_without_embedding_again(ctx: RunContext) -> None:
    """A walk first run on fp32 vectors alone (`embeddings.screen = "off"`, as before
    screening), then screened: the cached fp32 vectors screen too, nothing is embedded again,
    and every near-duplicate decision is the same."""
    from pipeline import judge

    _dedup_story_pool(ctx)
    screening = ctx.embedder
    fp32 = screening.variant("torch")
    fp32.settings = fp32.settings.model_copy(update={"screen": "off"})
    ctx._embedder = fp32
    judge.run(ctx)
    decisions = "SELECT post_id, keep, reason, duplicate_of, cosine, jaccard FROM near_dup"
    before = ctx.store.query(decisions + " ORDER BY post_id")
    assert before
    ctx._embedder = screening
    again = judge.run(ctx)
    assert again.counters["posts_embedded"] == 0
    assert again.counters["posts_embedded_fp32"] == 0
    after = ctx.store.query(decisions + " ORDER BY post_id")
    assert before == after


def _exact_pool(seed: int) -> list[dict]:
    """`_words_pool` with exact reposts, retitled copies and crossposts of earlier posts mixed
    in, so the exact checks of one chunk of the walk meet posts of earlier chunks."""
    import random

    rng = random.Random(seed)
    posts = _words_pool(160, seed=seed)
    out: list[dict] = []
    for i, post in enumerate(posts):
        out.append(post)
        if i < 5 or rng.random() > 0.3:
            continue
        other = rng.choice(out[:-1])
        kind = rng.choice(["exact", "retitled", "crosspost"])
        fields = {"crosspost_parent": f"t3_{other['id']}"} if kind == "crosspost" else {}
        extra = submission(
            f"{kind[0]}{i:04d}",
            created_utc=post["created_utc"],  # a tie in time: the id decides the order
            title=other["title"] if kind == "exact" else f"Retitled {i}: what now?",
            selftext=other["selftext"],
            **fields,
        )
        out.append(extra)
    return out


def test_dedup_decides_the_same_in_any_chunking_and_after_posts_come_and_go(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk reads the decisions of earlier chunks from the store: chunks of 7 decide as
    one chunk does, and a re-run after a post left the input or an older one arrived equals a
    fresh build of the same input."""
    from pipeline.store import Store
    from tests.conftest import make_settings

    posts = _exact_pool(seed=11)
    cols = "post_id, keep, reason, duplicate_of, similarity, neighbours"
    leaving = next(p["id"] for p in posts[10:] if p["id"].startswith("w"))
    late = posts[3]

    def build(name: str, chunk: int, batches: list[list[dict]], drop: str | None = None):
        monkeypatch.setattr(dedup, "CHUNK", chunk)
        s = make_settings(tmp_path / name, dedup={"near_dup": True}, prefilter={"min_words": 1})
        s.processed_dir.mkdir(parents=True)
        with Store.open(s.db_path) as store:
            ctx = RunContext(settings=s, store=store, run_id="test-run")
            for part, batch in enumerate(batches):
                write_dump(s.source.raw_dir / f"RS_{part}.zst", batch)
                ingest.run(ctx)
                prefilter.run(ctx)
                store.con.execute("UPDATE prefilter SET keep = true, reason = NULL")
                r = dedup.run(ctx)
            if drop:  # still a post, no longer kept by the rules: its place is known
                store.con.execute("UPDATE prefilter SET keep = false WHERE post_id = ?", [drop])
                r = dedup.run(ctx)
            return store.con.execute(f"SELECT {cols} FROM dedup ORDER BY post_id").fetchall(), r

    whole, _ = build("one-chunk", 4096, [posts])
    reasons = [row[2] for row in whole]
    for reason in ("exact_duplicate", "same_body", "crosspost", "near_duplicate"):
        assert reasons.count(reason) >= 5, reason
    assert build("chunks-of-7", 7, [posts])[0] == whole

    # An older post arrives in a later batch: decided from its place on.
    rest = [p for p in posts if p is not late]
    rerun, r = build("late", 7, [rest, [late]])
    assert rerun == whole
    assert r.skipped == 3 and r.processed == len(posts) - 3

    # A post leaves the input: its decision goes, and the ones after it are made again.
    gone, r = build("gone", 7, [posts], drop=leaving)
    fresh, _ = build("fresh", 4096, [[p for p in posts if p["id"] != leaving]])
    assert gone == fresh
    place = [p["id"] for p in sorted(posts, key=lambda p: (p["created_utc"], p["id"]))]
    assert (r.removed, r.skipped) == (1, place.index(leaving))
