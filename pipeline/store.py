"""The DuckDB store: one table per stage output, keyed by stable ids, with provenance."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
from pydantic import BaseModel

from schemas.convert import duckdb_columns
from schemas.tables import TABLE_OF, TABLES

M = TypeVar("M", bound=BaseModel)

PROVENANCE_COLUMNS = {
    "_stage": "VARCHAR",
    "_version": "VARCHAR",
    "_config_hash": "VARCHAR",
    "_run_id": "VARCHAR",
    "_created_at": "TIMESTAMPTZ",
}


@dataclass(frozen=True)
class Provenance:
    """Who wrote a row: the stage, its code/prompt version, the settings hash and the run."""

    stage: str
    version: str
    config_hash: str
    run_id: str


class StoreSchemaError(RuntimeError):
    """The store was written by a version with other table layouts."""


class Store:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._create_tables()

    @classmethod
    @contextmanager
    def open(cls, path: Path) -> Iterator[Store]:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path))
        try:
            yield cls(con)
        finally:
            con.close()

    def _create_tables(self) -> None:
        existing: dict[str, list[str]] = {}
        for name, col in self.con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall():
            existing.setdefault(name, []).append(col)
        for table in TABLES.values():
            cols = {**duckdb_columns(table.model), **PROVENANCE_COLUMNS}
            if table.name in existing and existing[table.name] != list(cols):
                raise StoreSchemaError(
                    f"table {table.name!r} in the store has columns {existing[table.name]}, "
                    f"this version expects {list(cols)}: use a new processed folder "
                    "(VALACT_PROCESSED_DIR) or remove the old store"
                )
            body = ", ".join(f'"{c}" {t}' for c, t in cols.items())
            key = ", ".join(f'"{k}"' for k in table.key)
            self.con.execute(
                f'CREATE TABLE IF NOT EXISTS "{table.name}" ({body}, PRIMARY KEY ({key}))'
            )

    def insert(self, table: str, rows: Sequence[BaseModel], prov: Provenance) -> int:
        """Insert rows, ignoring keys already present (stages are idempotent); returns new."""
        if not rows:
            return 0
        spec = TABLES[table]
        now = datetime.now(UTC)
        records = [
            {
                **r.model_dump(mode="json"),
                "_stage": prov.stage,
                "_version": prov.version,
                "_config_hash": prov.config_hash,
                "_run_id": prov.run_id,
                "_created_at": now,
            }
            for r in rows
        ]
        batch = pa.Table.from_pylist(records)  # noqa: F841 - referenced by name in the SQL
        cols = ", ".join(f'"{c}"' for c in (*spec.model.model_fields, *PROVENANCE_COLUMNS))
        row = self.con.execute(
            f'INSERT OR IGNORE INTO "{table}" ({cols}) SELECT {cols} FROM batch'
        ).fetchone()
        return int(row[0]) if row else 0

    def count(self, table: str, where: str = "", params: Sequence[Any] = ()) -> int:
        sql = f'SELECT count(*) FROM "{table}"' + (f" WHERE {where}" if where else "")
        row = self.con.execute(sql, list(params)).fetchone()
        return int(row[0]) if row else 0

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
        self, model: type[M], where: str = "", params: Sequence[Any] = (), order: str = ""
    ) -> list[M]:
        """Rows of the model's table as that model (provenance columns left out)."""
        table = TABLE_OF[model]
        cols = ", ".join(f'"{c}"' for c in model.model_fields)
        sql = f'SELECT {cols} FROM "{table}"'
        sql += f" WHERE {where}" if where else ""
        sql += f" ORDER BY {order}" if order else ""
        return [model.model_validate(r) for r in self.query(sql, params)]

    def delete(self, table: str, where: str, params: Sequence[Any] = ()) -> None:
        self.con.execute(f'DELETE FROM "{table}" WHERE {where}', list(params))
