"""Derive DuckDB column types and Hugging Face features from the schema models."""

from __future__ import annotations

import types
from enum import Enum
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

_DUCK = {str: "VARCHAR", int: "BIGINT", float: "DOUBLE", bool: "BOOLEAN"}
_HF = {str: "string", int: "int64", float: "float64", bool: "bool"}


def _unwrap(annotation: Any) -> Any:
    """Drop `None` from Optional/union annotations; nullability is the default everywhere."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unsupported union {annotation}")
        return args[0]
    return annotation


def _scalar(annotation: Any) -> type:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return str
    if annotation in _DUCK:
        return annotation
    raise TypeError(f"unsupported field type {annotation}")


def duckdb_type(annotation: Any) -> str:
    annotation = _unwrap(annotation)
    if get_origin(annotation) is list:
        return duckdb_type(get_args(annotation)[0]) + "[]"
    return _DUCK[_scalar(annotation)]


def duckdb_columns(model: type[BaseModel]) -> dict[str, str]:
    return {name: duckdb_type(f.annotation) for name, f in model.model_fields.items()}


def hf_features(model: type[BaseModel]) -> Any:
    """`datasets.Features` for a model (imported lazily: `datasets` is slow to import)."""
    import datasets

    def feature(annotation: Any) -> Any:
        annotation = _unwrap(annotation)
        if get_origin(annotation) is list:
            return datasets.List(feature(get_args(annotation)[0]))
        return datasets.Value(_HF[_scalar(annotation)])

    return datasets.Features(
        {name: feature(f.annotation) for name, f in model.model_fields.items()}
    )
