import numpy as np

from pipeline import dedup, ingest, prefilter
from pipeline.context import RunContext
from pipeline.embeddings import Embedder
from tests.conftest import submission, write_dump

ORIGINAL = submission("orig1")["selftext"]
OTHER = (
    "My younger brother asked me to co-sign the lease on his first apartment. He has a new job "
    "but no credit history, and the last time I lent him money it took two years to get it "
    "back. My wife says family comes first; I worry it will hurt our savings and our "
    "relationship if he misses rent. Should I co-sign or tell him to find a cheaper place?"
)


def _run(ctx: RunContext):
    ingest.run(ctx)
    prefilter.run(ctx)
    return dedup.run(ctx)


def test_embedder_gives_unit_vectors(embedder: Embedder) -> None:
    v = embedder.encode(["Should I quit my job?", "Should I leave my job?", "pasta recipe"])
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2]


def test_exact_near_and_crosspost_duplicates(ctx: RunContext) -> None:
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
            # small edits: a near duplicate
            submission(
                "near1",
                created_utc=1_790_000_130,
                selftext=ORIGINAL + " Edit: thanks everyone, still thinking.",
            ),
            submission(
                "xpost", created_utc=1_790_000_140, subreddit="AskHR", crosspost_parent="t3_orig1"
            ),
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
    }
    assert r.dropped == {"exact_duplicate": 1, "near_duplicate": 1, "crosspost": 1}
    assert ctx.store.count("embeddings") == 3  # exact dups and crossposts need no model

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
    assert (r2.processed, r2.skipped, r2.dropped) == (1, 5, {"near_duplicate": 1})
    again = dedup.run(ctx)
    assert again.processed == 0


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
