"""What a batch of new posts added to the candidate pool: the rescrape's closing summary."""

from __future__ import annotations

from typing import Any

from pipeline.store import Store


def added_to_pool(store: Store, before: set[str]) -> dict[str, Any]:
    """Counts for the posts that were not in the store before a run: how many arrived, how
    many passed the rules and dedup per category, why the others dropped out, and how many the
    judge has accepted so far (the rest wait until a quota needs them)."""
    new = sorted(store.keys("posts") - before)
    if not new:
        return {"new_posts": 0}
    rows = store.query(
        "SELECT f.category, f.keep AS rule_keep, f.reason AS rule_reason, d.keep AS dedup_keep, "
        "d.reason AS dedup_reason, j.keep AS judged_keep "
        "FROM (SELECT unnest(?) AS post_id) n LEFT JOIN prefilter f USING (post_id) "
        "LEFT JOIN dedup d USING (post_id) LEFT JOIN judge_panel j USING (post_id)",
        [new],
    )
    per_category: dict[str, dict[str, int]] = {}
    dropped: dict[str, int] = {}
    for r in rows:
        if r["rule_keep"] is False:
            dropped[r["rule_reason"] or "prefilter"] = dropped.get(r["rule_reason"], 0) + 1
            continue
        if r["dedup_keep"] is False:
            key = r["dedup_reason"] or "duplicate"
            dropped[key] = dropped.get(key, 0) + 1
            continue
        if r["dedup_keep"] is None:
            continue
        c = per_category.setdefault(r["category"] or "none", {"candidates": 0, "accepted": 0})
        c["candidates"] += 1
        c["accepted"] += bool(r["judged_keep"])
    return {
        "new_posts": len(new),
        "new_candidates": sum(c["candidates"] for c in per_category.values()),
        "per_category": per_category,
        "dropped": dict(sorted(dropped.items())),
    }
