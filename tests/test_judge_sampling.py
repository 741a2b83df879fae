from collections import Counter

from pipeline import judge, sampling
from pipeline.context import RunContext
from pipeline.llm.offline_judge import JUDGES
from pipeline.selection import lanes, take_turns
from pipeline.store import Provenance
from schemas import DedupDecision, FilterDecision, Post
from tests.conftest import submission

PROV = Provenance("test", "1", "h", "test-run")
DECISION = submission("x")["selftext"]
VENT = (
    "I just need to get this off my chest. My manager took credit for my project again in "
    "front of the whole team today and I felt invisible. I stayed late all month for that "
    "launch and I am exhausted, my partner has been patient but I keep bringing it home."
)
FACT = (
    "How do I set up a backdoor Roth IRA at Fidelity? What is the deadline for the "
    "contribution and which tax form does the conversion go on? Is there a tool that "
    "computes the pro-rata rule automatically for people with existing traditional IRAs?"
)

# Asks a clear choice with little context: the judges split, the tiebreaker keeps it.
SHORT = (
    "Should I text my ex happy birthday? We broke up a year ago on good terms and still follow "
    "each other. It has been quiet since then and a friend says it would only reopen things. "
    "What would you do?"
)
# A weaker cue ("is it worth it") with few stakes of the poster's own: split, and the
# tiebreaker drops it.
THIN = (
    "Is it worth it to repaint the kitchen myself this weekend? The quote we got was two "
    "thousand dollars and I have never painted a room before. The walls are old plaster with a "
    "few cracks near the window, and the ceiling is high. The store sells a kit with rollers "
    "and tape."
)
POSTS = {"decision": DECISION, "vent": VENT, "fact": FACT, "short": SHORT, "thin": THIN}


def put(ctx: RunContext, posts: list[tuple[str, str, str, str]]) -> None:
    """(post_id, subreddit, category, text) rows straight into posts, prefilter and dedup.
    The texts differ by a number only, so the walk's near-duplicate check is off here
    (tests/test_dedup.py tests it)."""
    ctx.settings.dedup.near_dup = False
    rows = [
        Post(
            post_id=i,
            subreddit=sub,
            title="Title",
            selftext=text,
            author="a",
            created_utc=n,
            over_18=False,
            stickied=False,
            crosspost_parent=None,
            permalink=None,
            url=None,
            score=None,
            num_comments=None,
            source_file="f",
            source_line=n,
            content_sha=f"sha-{i}",
        )
        for n, (i, sub, cat, text) in enumerate(posts)
    ]
    ctx.store.put("posts", rows, PROV)
    ctx.store.put(
        "prefilter",
        [
            FilterDecision(post_id=i, category=cat, keep=True, reason=None, detail=None)
            for i, _, cat, _ in posts
        ],
        PROV,
    )
    ctx.store.put(
        "dedup",
        [
            DedupDecision(
                post_id=p.post_id,
                content_hash=p.post_id,
                keep=True,
                reason=None,
                duplicate_of=None,
                similarity=None,
                body_sha=p.post_id,
                body_words=50,
                neighbours=[],
                neighbour_jaccard=[],
            )
            for p in rows
        ],
        PROV,
    )


def test_offline_judges_take_different_views_and_the_tiebreaker_can_accept() -> None:
    votes = {
        name: {kind: fn("Title", text)[0] for kind, text in POSTS.items()}
        for name, fn in JUDGES.items()
    }
    assert votes["decision-rules"] == {
        "decision": True,
        "vent": False,
        "fact": False,
        "short": True,
        "thin": True,
    }
    # The context judge also wants the poster's situation and stakes, told at some length.
    assert votes["context-rules"] == {
        "decision": True,
        "vent": False,
        "fact": False,
        "short": False,
        "thin": False,
    }
    # The tiebreaker weighs both scores: a clear choice with little context is kept, a weak
    # cue with little context is not.
    assert votes["combined-score"]["short"] is True
    assert votes["combined-score"]["thin"] is False


def test_panel_majority_and_tiebreak(ctx: RunContext) -> None:
    put(
        ctx,
        [
            ("d1", "AskHR", "career", DECISION),
            ("f1", "AskHR", "career", FACT),
            ("s1", "AskHR", "career", SHORT),
            ("v1", "AskHR", "career", THIN),
        ],
    )
    r = judge.run(ctx)
    panel = {p["post_id"]: p for p in ctx.store.query("SELECT * FROM judge_panel")}
    assert panel["d1"]["keep"] and not panel["d1"]["tiebreak_used"]
    assert not panel["f1"]["keep"] and panel["f1"]["reason"] == "rejected"
    assert panel["s1"]["keep"] and panel["s1"]["reason"] == "tiebreak_accepted"
    assert not panel["v1"]["keep"] and panel["v1"]["tiebreak_used"]
    assert ctx.store.count("judge_votes") == 10  # 2 per post and two tiebreaker votes
    assert r.dropped == {"rejected": 1, "tiebreak_rejected": 1}
    assert r.outputs == 2
    assert judge.run(ctx).processed == 0


def test_judging_stops_when_the_category_quota_is_met(ctx: RunContext) -> None:
    # per_category=2, oversample=2 -> at most 4 accepted per category are needed
    put(ctx, [(f"c{i}", "AskHR", "career", DECISION + f" ({i})") for i in range(10)])
    r = judge.run(ctx)
    assert r.processed == 4 and r.outputs == 4
    assert any("6 posts not judged" in n for n in r.notes)
    assert judge.run(ctx).processed == 0


def test_sampling_is_balanced_stratified_and_seeded(ctx: RunContext) -> None:
    ctx.settings.sampling.per_category = 4
    ctx.settings.judge.oversample = 10
    put(
        ctx,
        [(f"a{i}", "AskHR", "career", DECISION + f"{i}") for i in range(6)]
        + [(f"b{i}", "consulting", "career", DECISION + f"{i}") for i in range(6)]
        + [(f"e{i}", "college", "education", DECISION + f"{i}") for i in range(2)],
    )
    judge.run(ctx)
    r = sampling.run(ctx)
    rows = ctx.store.query("SELECT * FROM scenarios")
    per_cat = Counter(row["category"] for row in rows)
    assert per_cat == {"career": 4, "education": 2}
    assert Counter(row["subreddit"] for row in rows if row["category"] == "career") == {
        "AskHR": 2,
        "consulting": 2,
    }
    assert any("education: 2 of 4" in n for n in r.notes)
    assert sampling.run(ctx).processed == 0

    # Same seed, same choice whatever the input order; another seed, (here) another choice.
    pool = [(p.post_id, p.subreddit) for p in ctx.store.load(Post)]

    def choose(posts: list[tuple[str, str]], seed: int, k: int = 6) -> list[str]:
        return take_turns(lanes(posts, seed), lambda _: True, k)[0]

    first = choose(pool, 1)
    assert first == choose(list(reversed(pool)), 1)
    assert first != choose(pool, 2)


def test_the_selection_order_is_stable_as_the_pool_and_the_quota_grow() -> None:
    pool = [(f"p{i}", f"sub{i % 3}") for i in range(60)]
    accepted = {p for p, _ in pool if hash(p) % 1 == 0 and p[-1] not in "37"}

    def choose(posts: list[tuple[str, str]], k: int) -> list[str]:
        return take_turns(lanes(posts, 7), accepted.__contains__, k)[0]

    ten = choose(pool, 10)
    assert choose(pool, 20)[:10] == ten  # a larger quota extends the selection
    assert choose(pool, 5) == ten[:5]
    # New posts never reorder the old ones: each lane keeps its old posts' relative order.
    grown = lanes([*pool, *((f"n{i}", f"sub{i % 4}") for i in range(30))], 7)
    before = lanes(pool, 7)
    for lane in before:
        (match,) = [g for g in grown if lane[0] in g]
        assert [p for p in match if p in set(lane)] == lane
