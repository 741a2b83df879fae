"""Embedding backends: the ONNX export gives the fp32 vectors (or falls back with a note), bf16
screening plus fp32 confirmation gives the fp32 pairs, and the index finds what all pairs find."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

import pipeline.embeddings as emb
from pipeline.embeddings import BF16_SUFFIX, Embedder, max_drift
from pipeline.settings import DedupSettings, Settings
from pipeline.vector_index import ApproximateIndex, exact_pairs, screened_pairs

THRESHOLD = DedupSettings().near_dup_threshold

BASE = (
    "My sister (31F) asked me (27F) to co-sign a lease for her new apartment. She has missed "
    "payments before and my partner says I would be the one paying if it goes wrong. I love "
    "her and she just left a bad relationship, so she really needs a fresh start. Should I "
    "sign it, offer to help with the deposit instead, or stay out of it completely?"
)
TEXTS = [
    BASE,
    BASE.replace("co-sign a lease", "co-sign the lease").replace("really ", ""),  # light edit
    "Throwaway. " + BASE + " Edit: thanks for all the replies, reading them now.",
    "UPDATE: " + BASE[:200],
    "I got offered a remote job that pays 20% more, but my team is the reason I enjoy work. "
    "Do I take it or ask my manager for a raise first?",
    "AITA for not inviting my dad's new wife to my graduation? She was rude to my mom for years.",
    "Should I tell my best friend that her fiancé is still on dating apps? I saw him last week.",
    "How do I split rent fairly when my roommate's room is twice the size of mine?",
    "Mi hermano quiere que le preste dinero otra vez. ¿Debería decirle que no? 😕",
    "",
    "ok",
    " ".join(["I keep going back and forth about moving across the country for this job."] * 20),
]


@pytest.fixture(scope="module")
def fp32(embedder: Embedder) -> np.ndarray:
    return embedder.encode(TEXTS)


def test_length_sorted_batches_keep_the_callers_order(embedder: Embedder, fp32: np.ndarray):
    one_by_one = np.vstack([embedder.encode([t]) for t in TEXTS])
    assert max_drift(fp32, one_by_one) < 1e-5
    assert np.allclose(np.linalg.norm(fp32, axis=1), 1, atol=1e-5)
    seen: list[int] = []
    assert max_drift(embedder.encode(TEXTS, seen.append), fp32) < 1e-5
    assert sum(seen) == len(TEXTS)


def test_onnx_export_matches_fp32_and_is_made_once(
    embedder: Embedder, fp32: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    onnx = embedder.variant("onnx")
    onnx.cache_dir = tmp_path
    assert onnx.backend == "onnx", onnx.notes
    assert onnx.name == embedder.name  # same vectors, same cache entries
    assert onnx.onnx_drift is not None and onnx.onnx_drift <= onnx.settings.onnx_tolerance
    assert max_drift(onnx.encode(TEXTS), fp32) < 1e-5
    assert (
        exact_pairs(onnx.encode(TEXTS), THRESHOLD).as_set() == exact_pairs(fp32, THRESHOLD).as_set()
    )
    assert len(list(tmp_path.glob("*.onnx"))) == 1

    def no_export(*_: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(emb, "_export", no_export)
    again = embedder.variant("onnx")
    again.cache_dir = tmp_path
    assert again.backend == "onnx"  # the cached export, checked again at load

    # An export that does not match fp32 is not used: torch fp32, and a note says why.
    strict = embedder.variant("onnx")
    strict.cache_dir = tmp_path
    strict.settings = strict.settings.model_copy(update={"onnx_tolerance": 1e-12})
    assert strict.backend == "torch"
    assert "differs from fp32" in strict.notes[0]
    assert max_drift(strict.encode(TEXTS[:3]), fp32[:3]) < 1e-5


def test_failed_export_falls_back_to_fp32(
    embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def broken(*_: object) -> None:
        raise RuntimeError("exporter unavailable")

    monkeypatch.setattr(emb, "_export", broken)
    onnx = embedder.variant("onnx")
    onnx.cache_dir = tmp_path / "empty"
    assert onnx.backend == "torch"
    assert "exporter unavailable" in onnx.notes[0]
    assert onnx.encode(["still works"]).shape == (1, 384)


def test_backend_setting_and_names(tmp_path: Path):
    default = Embedder.from_settings(Settings(processed_dir=tmp_path))
    assert default.name == "all-MiniLM-L6-v2"
    assert default.cache_dir == tmp_path / "models"
    for backend in ("torch", "onnx", "auto"):
        s = Settings(processed_dir=tmp_path, embeddings={"backend": backend})
        assert Embedder.from_settings(s).name == "all-MiniLM-L6-v2"
    s = Settings(processed_dir=tmp_path, embeddings={"backend": "bf16", "onnx_dir": tmp_path})
    e = Embedder.from_settings(s)
    assert e.name == "all-MiniLM-L6-v2" + BF16_SUFFIX and e.cache_dir == tmp_path
    assert e.screen_margin == 0 and e.screen_name == e.name  # its vectors are already bf16
    with pytest.raises(ValidationError):
        Settings(processed_dir=tmp_path, embeddings={"backend": "int8"})
    off = Settings(processed_dir=tmp_path, embeddings={"screen": "off"})
    assert Embedder.from_settings(off).screen_margin == 0


def test_bf16_screen_then_fp32_confirmation_keeps_every_pair(embedder: Embedder, fp32: np.ndarray):
    truth = exact_pairs(fp32, THRESHOLD)
    assert (0, 1) in truth.as_set() and (0, 2) in truth.as_set()  # the written reposts are found
    screen = embedder.encode_screen(TEXTS)
    if not embedder.screen_exact:
        assert embedder.screen_name == embedder.name + BF16_SUFFIX
        pair_drift = np.abs(screen @ screen.T - fp32 @ fp32.T).max()
        assert 0 < pair_drift < embedder.screen_margin / 2
    asked: list[np.ndarray] = []

    def exact(rows: np.ndarray) -> np.ndarray:
        asked.append(rows)
        return embedder.encode([TEXTS[r] for r in rows])

    found = screened_pairs(screen, THRESHOLD, embedder.screen_margin, exact)
    assert found.as_set() == truth.as_set()
    assert np.allclose(np.sort(found.sim), np.sort(truth.sim), atol=1e-5)
    assert sum(map(len, asked)) < len(TEXTS)  # distinct posts are never embedded twice


def planted(n: int, dim: int = 48, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, dim)).astype(np.float32)
    v[n // 2 :: 7] = v[: len(v[n // 2 :: 7])] + 0.1 * rng.standard_normal(
        (len(v[n // 2 :: 7]), dim)
    )
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_exact_pairs_is_the_upper_triangle_of_all_pairs():
    v = planted(500)
    sims = v @ v.T
    i, j = np.nonzero(np.triu(sims >= THRESHOLD, 1))
    for block in (64, 499, 4096):
        pairs = exact_pairs(v, THRESHOLD, block=block)
        assert pairs.as_set() == set(zip(i.tolist(), j.tolist(), strict=True))
        assert np.allclose(pairs.sim, sims[pairs.i, pairs.j])
    across = exact_pairs(v[:10], THRESHOLD, others=v)
    assert {(a, b) for a, b in across.as_set() if a != b} == {
        (a, b) for a, b in zip(*np.nonzero(sims[:10] >= THRESHOLD), strict=True) if a != b
    }
    assert len(exact_pairs(v[:0], THRESHOLD)) == 0


def test_approximate_index_recall_against_exact():
    v = planted(2_000)
    truth = exact_pairs(v, THRESHOLD)
    assert len(truth) > 100
    index = ApproximateIndex(v)
    found = index.pairs(v, THRESHOLD)
    assert len(found.as_set() & truth.as_set()) / len(truth) >= 0.99
    assert found.as_set() <= truth.as_set()
    assert len(index.search(v[:0], THRESHOLD)) == 0
    assert len(ApproximateIndex(v[:0]).search(v[:3], THRESHOLD)) == 0
    small = ApproximateIndex(v[:20])  # one flat cell: exact
    assert small.pairs(v[:20], THRESHOLD).as_set() == exact_pairs(v[:20], THRESHOLD).as_set()


# -- the near-duplicate walk on screening vectors -------------------------------------------------


def _walk_decisions(
    s: DedupSettings,
    texts: list[tuple[str, str]],
    screen: list[np.ndarray],
    exact: list[np.ndarray] | None,
    margin: float,
    released: int = 0,
) -> tuple[list[tuple], list[int]]:
    """The walk's decisions (`bench.embeddings.walk_decisions`), each post's MinHash
    neighbours standing in as every earlier post at `pair_jaccard`."""
    from bench.embeddings import walk_decisions
    from pipeline.near_dup import compared, jaccard, shingles

    sh = [shingles(compared(t, b, s).words, s.shingle_words) for t, b in texts]
    near = [
        [j for j in range(i) if jaccard(sh[i], sh[j]) >= s.pair_jaccard] for i in range(len(sh))
    ]
    return walk_decisions(s, texts, screen, exact, margin, near, released)


def _labelled_posts(n_pairs: int) -> list[tuple[str, str]]:
    from scripts.eval_dedup import PAIRS, load

    rows = load(PAIRS)[:n_pairs]
    return [(r[k]["title"], r[k]["body"]) for r in rows for k in ("a", "b")]


def test_screened_walk_decides_as_fp32_on_perturbed_vectors():
    """Screening vectors off by up to half the margin: every decision (reason, match, its
    cosine) is the one made on the exact vectors, and only posts near a pair are re-fetched."""
    s = DedupSettings()
    rng = np.random.default_rng(3)
    n, dim, margin = 160, 48, 0.02
    vocab = [f"w{k}" for k in range(400)]
    words = [list(rng.choice(vocab, 60)) for _ in range(n)]
    exact = rng.standard_normal((n, dim))
    for j in range(n // 2, n, 3):  # rewritten copies, at cosines around both thresholds
        i = int(rng.integers(j))
        exact[j] = exact[i] + rng.uniform(0.1, 0.8) * rng.standard_normal(dim)
        words[j] = [w if rng.random() < 0.7 else str(rng.choice(vocab)) for w in words[i]]
    exact /= np.linalg.norm(exact, axis=1, keepdims=True)
    noise = rng.standard_normal((n, dim))
    noise *= (margin / 4) / np.linalg.norm(noise, axis=1, keepdims=True)  # pair drift < margin/2
    screen = (exact + noise) / np.linalg.norm(exact + noise, axis=1, keepdims=True)
    exact, screen = exact.astype(np.float32), screen.astype(np.float32)
    texts = [(f"t{i}", " ".join(w)) for i, w in enumerate(words)]
    ref, _ = _walk_decisions(s, texts, list(exact), None, 0.0, released=10)
    got, asked = _walk_decisions(s, texts, list(screen), list(exact), margin, released=10)
    assert got == ref
    assert sum(r is not None for _, r, _ in ref) >= 5  # the walk did drop some
    assert 0 < len(set(asked)) < n
    raw, _ = _walk_decisions(s, texts, list(screen), None, 0.0, released=10)
    assert raw != ref  # the raw screening vectors alone record other cosines


def test_screened_walk_decides_as_fp32_on_the_labelled_pairs(embedder: Embedder):
    """The model's own bf16 vectors (where the CPU has bf16) on posts of the labelled pairs:
    the walk's decisions equal those of a walk on fp32 vectors."""
    from pipeline.near_dup import compared, vectors_for

    s = DedupSettings()
    texts = _labelled_posts(40)
    cs = [compared(t, b, s).text for t, b in texts]

    def vectors(encode):
        return vectors_for(cs, s, encode, lambda _: {}, lambda _: None)

    fp32 = vectors(embedder.encode)
    screen = vectors(embedder.encode_screen)
    margin = embedder.screen_margin
    ref, _ = _walk_decisions(s, texts, fp32, None, 0.0, released=6)
    got, asked = _walk_decisions(s, texts, screen, fp32, margin, released=6)
    assert got == ref
    assert sum(r is not None for _, r, _ in ref) >= 5
    if not embedder.screen_exact:
        a, b = np.vstack(screen), np.vstack(fp32)
        drift = float(np.abs(a @ a.T - b @ b.T).max())
        assert 0 < drift < margin / 2
        assert len(set(asked)) < len(texts)


def test_worker_threads_give_the_one_call_vectors(embedder: Embedder, fp32: np.ndarray):
    import torch

    before = torch.get_num_threads()
    for workers in (1, 2, 3):
        e = Embedder(settings=embedder.settings.model_copy(update={"workers": workers}))
        e._model = embedder._load()
        seen: list[int] = []
        assert max_drift(e.encode(TEXTS, seen.append), fp32) < 1e-5
        assert sum(seen) == len(TEXTS)
        assert e.encode_screen(TEXTS).shape == fp32.shape
        assert torch.get_num_threads() == before
