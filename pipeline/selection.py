"""The seeded order in which posts are judged and sampled, stable as the pool grows.

Within a category, each subreddit is a lane of its posts ranked by a seeded hash of their ids,
and lanes take turns, each giving its next accepted post. A post's place depends only on the
seed, its own id and the posts of its lane ranked above it, never on a shuffle of the whole
pool: more posts, or a larger quota, extend the selection instead of reshuffling it, and the
first k of a larger selection are the selection of k.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable


def seeded_rank(seed: int, key: str) -> str:
    """A stable pseudo-random sort key: the same seed gives the same order on every machine."""
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def lanes(posts: Iterable[tuple[str, str]], seed: int) -> list[list[str]]:
    """(post_id, subreddit) pairs -> one ranked lane of post ids per subreddit, lanes ranked."""
    groups: dict[str, list[str]] = defaultdict(list)
    for post_id, subreddit in posts:
        groups[subreddit.lower()].append(post_id)
    return [
        sorted(groups[sub], key=lambda p: seeded_rank(seed, p))
        for sub in sorted(groups, key=lambda sub: seeded_rank(seed, sub))
    ]


def take_turns(
    ranked: list[list[str]],
    accepted: Callable[[str], bool],
    target: int,
    ahead: Callable[[list[str]], None] | None = None,
    window: int = 1,
) -> tuple[list[str], int]:
    """Lanes take turns, each giving its next accepted post, until `target` are chosen.

    `accepted` is asked lazily, in order, only for the posts the walk reaches (the judge asks
    a model there). Before each, `ahead` (if given) sees that post and the posts the walk may
    reach next, about `window` of them, so it can prepare them all at once (the judge asks
    for them concurrently); the walk itself, and so the choice, stays the same. Returns the
    chosen ids in order and how many posts were looked at.
    """
    chosen: list[str] = []
    pos = [0] * len(ranked)
    active = list(range(len(ranked)))
    looked = 0

    def upcoming(lane: int) -> list[str]:
        order = active[active.index(lane) :] + active[: active.index(lane)]
        depth = -(-window // len(order))
        return [
            ranked[other][pos[other] + k]
            for k in range(depth)
            for other in order
            if pos[other] + k < len(ranked[other])
        ][:window]

    while len(chosen) < target and active:
        for lane in list(active):
            if len(chosen) >= target:
                break
            while pos[lane] < len(ranked[lane]):
                post_id = ranked[lane][pos[lane]]
                if ahead is not None:
                    ahead(upcoming(lane))
                pos[lane] += 1
                looked += 1
                if accepted(post_id):
                    chosen.append(post_id)
                    break
            else:
                active.remove(lane)
    return chosen, looked
