"""When a stored result may be reused: the one rule every stage follows.

Each stored row carries two hashes: `_signature`, what produced it (the stage and its version,
the settings it depends on, the prompt and sampling settings for model stages), and `_inputs`,
what it was produced from (content hashes of its input records, the model name). A row is
current only while both equal what the stage would compute now; otherwise it is recomputed,
and a row whose item is no longer wanted is removed, so only current rows reach later stages.
Expensive work stays reusable underneath: model answers are cached per request hash and
embeddings per text hash, so switching back to an earlier setting costs nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)


def digest(*parts: Any) -> str:
    """A stable hash of JSON-able parts (dict keys sorted), the same on every machine."""
    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass
class Plan(Generic[K]):
    """What a stage must do with its items: reuse, (re)compute, or remove."""

    reuse: set[K] = field(default_factory=set)
    todo: list[K] = field(default_factory=list)
    stale: set[Any] = field(default_factory=set)


def plan(wanted: Mapping[K, str], stored: Mapping[Any, tuple[str, str]], signature: str) -> Plan[K]:
    """`wanted`: item key -> inputs hash now; `stored`: key -> (signature, inputs) on disk.

    `todo` keeps the order of `wanted`, so work happens in the stage's own order.
    """
    out: Plan[K] = Plan()
    for key, inputs in wanted.items():
        if stored.get(key) == (signature, inputs):
            out.reuse.add(key)
        else:
            out.todo.append(key)
    out.stale = {k for k in stored if k not in wanted}
    return out
