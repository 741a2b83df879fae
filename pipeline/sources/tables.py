"""A researcher's own scrape, as CSV or Parquet (`[[source.imports]]` in the settings).

Each row becomes a record in the dump shape (`id`, `subreddit`, `title`, `selftext`,
`created_utc`, ...) through the import's column mapping, and then takes the same road as a
dump line (`pipeline.sources.dumps.to_post`), so every source lands in one normalized `Post`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.settings import TableImport
from pipeline.sources.dumps import RecordError


def iter_table_records(
    path: Path, spec: TableImport
) -> Iterator[tuple[int, dict[str, Any] | RecordError]]:
    """(row number from 1, record in the dump shape or why the row cannot be one)."""
    raise NotImplementedError
