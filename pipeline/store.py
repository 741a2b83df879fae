"""The DuckDB store: one table per stage output, keyed by stable ids, with provenance.

Every row records what produced it (`_signature`) and from what (`_inputs`); see
`pipeline.reuse` for the rule. The layout is versioned: an older store is migrated in place
(`pipeline.migrations`), a newer one is refused.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import pyarrow as pa
from pydantic import BaseModel

from pipeline.errors import PipelineError
from schemas.convert import duckdb_columns
from schemas.tables import TABLE_OF, TABLES

if TYPE_CHECKING:
    from pipeline.settings import StoreSettings

M = TypeVar("M", bound=BaseModel)

LAYOUT_VERSION = 6

PROVENANCE_COLUMNS = {
    "_stage": "VARCHAR",
    "_version": "VARCHAR",
    "_signature": "VARCHAR",
    "_inputs": "VARCHAR",
    "_run_id": "VARCHAR",
    "_created_at": "TIMESTAMPTZ",
}


@dataclass(frozen=True)
class Provenance:
    """Who wrote a row: the stage, its version, its signature now and the run."""

    stage: str
    version: str
    signature: str
    run_id: str


class StoreSchemaError(PipelineError):
    """The store cannot be used by this version (newer layout, or a damaged table)."""


def table_columns(name: str) -> dict[str, str]:
    return {**duckdb_columns(TABLES[name].model), **PROVENANCE_COLUMNS}


class Store:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.notes: list[str] = []  # what opening the store did (a migration), for the run
        self._prepare()

    @classmethod
    @contextmanager
    def open(cls, path: Path, settings: StoreSettings | None = None) -> Iterator[Store]:
        path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {}
        if settings is not None:
            config["memory_limit"] = settings.memory_limit
            if settings.threads is not None:
                config["threads"] = settings.threads
        con = duckdb.connect(str(path), config=config)
        try:
            yield cls(con)
        finally:
            con.close()

    # -- layout --------------------------------------------------------------------------------

    def _existing(self) -> dict[str, list[str]]:
        existing: dict[str, list[str]] = {}
        for name, col in self.con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall():
            existing.setdefault(name, []).append(col)
        return existing

    def layout_version(self) -> int | None:
        """The store's layout: None for an empty file, 1 for stores from before versioning."""
        existing = self._existing()
        if "store_meta" in existing:
            row = self.con.execute(
                "SELECT value FROM store_meta WHERE key = 'layout_version'"
            ).fetchone()
            return int(row[0]) if row else None
        return 1 if "posts" in existing else None

    def _prepare(self) -> None:
        from pipeline.migrations import MIGRATIONS

        version = self.layout_version()
        if version is not None and version > LAYOUT_VERSION:
            raise StoreSchemaError(
                f"the store was written by a newer valact (layout {version}, this version "
                f"reads {LAYOUT_VERSION}): upgrade valact, or use another VALACT_PROCESSED_DIR"
            )
        if version is not None and version < LAYOUT_VERSION:
            self.con.execute("BEGIN TRANSACTION")
            try:
                for v in range(version, LAYOUT_VERSION):
                    self.notes += MIGRATIONS[v](self)
                self._create_tables()
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
        else:
            self._create_tables()

    def _create_tables(self) -> None:
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR)"
        )
        self.con.execute(
            "INSERT OR REPLACE INTO store_meta VALUES ('layout_version', ?)", [str(LAYOUT_VERSION)]
        )
        existing = self._existing()
        for table in TABLES.values():
            cols = table_columns(table.name)
            if table.name in existing and existing[table.name] != list(cols):
                raise StoreSchemaError(
                    f"table {table.name!r} has columns {existing[table.name]}, layout "
                    f"{LAYOUT_VERSION} expects {list(cols)}: the store is damaged; move it "
                    "aside and rebuild (model answers are in its llm_cache table)"
                )
            body = ", ".join(f'"{c}" {t}' for c, t in cols.items())
            key = ", ".join(f'"{k}"' for k in table.key)
            self.con.execute(
                f'CREATE TABLE IF NOT EXISTS "{table.name}" ({body}, PRIMARY KEY ({key}))'
            )

    # -- writing -------------------------------------------------------------------------------

    def _batch(
        self, rows: Sequence[BaseModel], prov: Provenance, inputs: Sequence[str] | str
    ) -> pa.Table:
        now = datetime.now(UTC)
        per_row = [inputs] * len(rows) if isinstance(inputs, str) else list(inputs)
        if len(per_row) != len(rows):
            raise ValueError("one inputs hash per row")
        return pa.Table.from_pylist(
            [
                {
                    **r.model_dump(mode="json"),
                    "_stage": prov.stage,
                    "_version": prov.version,
                    "_signature": prov.signature,
                    "_inputs": i,
                    "_run_id": prov.run_id,
                    "_created_at": now,
                }
                for r, i in zip(rows, per_row, strict=True)
            ]
        )

    def put(
        self,
        table: str,
        rows: Sequence[BaseModel],
        prov: Provenance,
        inputs: Sequence[str] | str = "",
        replace_if: str | None = None,
        fresh: bool = False,
    ) -> int:
        """Insert rows, replacing a stored row with the same key (a recomputed result
        supersedes the old one). With `replace_if` (SQL over `excluded` and the table), a
        stored row is replaced only when it holds. `fresh` rows are expected to be new: a plain
        insert skips DuckDB's conflict handling (about 3 ms a statement, which model answers
        written a few at a time would pay hundreds of times a minute), and a key that is
        there after all falls back to the replacing insert. Returns the rows written."""
        if not rows:
            return 0
        batch = self._batch(rows, prov, inputs)  # noqa: F841 - referenced by name in the SQL
        cols = list(table_columns(table))
        names = ", ".join(f'"{c}"' for c in cols)
        if fresh and replace_if is None:
            try:
                row = self.con.execute(
                    f'INSERT INTO "{table}" ({names}) SELECT {names} FROM batch'
                ).fetchone()
                return int(row[0]) if row else 0
            except duckdb.ConstraintException:
                pass
        if replace_if is None:
            sql = f'INSERT OR REPLACE INTO "{table}" ({names}) SELECT {names} FROM batch'
        else:
            key = ", ".join(f'"{k}"' for k in TABLES[table].key)
            sets = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c not in TABLES[table].key)
            sql = (
                f'INSERT INTO "{table}" ({names}) SELECT {names} FROM batch '
                f"ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE {replace_if}"
            )
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0

    def stored(
        self, table: str, where: str = "", params: Sequence[Any] = ()
    ) -> dict[Any, tuple[str, str]]:
        """Key -> (signature, inputs) of stored rows (keys as in `keys`)."""
        spec = TABLES[table]
        cols = ", ".join(f'"{k}"' for k in spec.key)
        sql = f'SELECT {cols}, _signature, _inputs FROM "{table}"'
        sql += f" WHERE {where}" if where else ""
        n = len(spec.key)
        out: dict[Any, tuple[str, str]] = {}
        for r in self.con.execute(sql, list(params)).fetchall():
            out[r[0] if n == 1 else tuple(r[:n])] = (r[n], r[n + 1])
        return out

    def delete_keys(self, table: str, keys: Iterable[Hashable]) -> int:
        """Delete rows by key (one-column keys as values, others as tuples)."""
        spec = TABLES[table]
        keys = list(keys)
        if not keys:
            return 0
        if len(spec.key) == 1:
            self.con.execute(
                f'DELETE FROM "{table}" WHERE "{spec.key[0]}" IN (SELECT unnest(?))', [keys]
            )
        else:
            data = pa.table(  # noqa: F841 - referenced by name in the SQL
                {k: [key[i] for key in keys] for i, k in enumerate(spec.key)}  # type: ignore[index]
            )
            match = " AND ".join(f't."{k}" = data."{k}"' for k in spec.key)
            self.con.execute(
                f'DELETE FROM "{table}" t WHERE EXISTS (SELECT 1 FROM data WHERE {match})'
            )
        return len(keys)

    def delete(self, table: str, where: str, params: Sequence[Any] = ()) -> int:
        row = self.con.execute(f'DELETE FROM "{table}" WHERE {where}', list(params)).fetchone()
        return int(row[0]) if row else 0

    # -- reading -------------------------------------------------------------------------------

    def count(self, table: str, where: str = "", params: Sequence[Any] = ()) -> int:
        sql = f'SELECT count(*) FROM "{table}"' + (f" WHERE {where}" if where else "")
        row = self.con.execute(sql, list(params)).fetchone()
        return int(row[0]) if row else 0

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.con.execute(sql, list(params)).fetchone()
        return row[0] if row else None

    def keys(self, table: str, where: str = "", params: Sequence[Any] = ()) -> set[Any]:
        """The keys present: strings for one-column keys, tuples otherwise."""
        spec = TABLES[table]
        cols = ", ".join(f'"{k}"' for k in spec.key)
        sql = f'SELECT {cols} FROM "{table}"' + (f" WHERE {where}" if where else "")
        rows = self.con.execute(sql, list(params)).fetchall()
        return {r[0] for r in rows} if len(spec.key) == 1 else set(rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def load(
        self,
        model: type[M],
        where: str = "",
        params: Sequence[Any] = (),
        order: str = "",
        table: str | None = None,
    ) -> list[M]:
        """Rows of the model's table (or of `table`, a qualified name) as that model."""
        source = table or f'"{TABLE_OF[model]}"'
        cols = ", ".join(f'"{c}"' for c in model.model_fields)
        sql = f"SELECT {cols} FROM {source}"
        sql += f" WHERE {where}" if where else ""
        sql += f" ORDER BY {order}" if order else ""
        return [model.model_validate(r) for r in self.query(sql, params)]
