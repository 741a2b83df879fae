"""The offline backend set: runs with no model server, so `make dataset` works anywhere.

- judges: scored rules over the post, a decision-focused and a context-focused judge and a
  tiebreaker on both scores (`pipeline.llm.offline_judge`);
- generators: TEMPLATE actions — placeholders, flagged as such everywhere they surface;
- annotator: a classifier on MiniLM embeddings giving a probability per value, reading an
  action against its scenario's other candidates when the request carries them
  (`pipeline.llm.offline_annotator`).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import numpy as np

from pipeline.llm.offline_annotator import VALUES, ValueClassifier, scores_dict
from pipeline.llm.offline_judge import JUDGE_VERSION, JUDGES
from pipeline.llm.service import BackendError, Completion
from pipeline.settings import OFFLINE_PREFIX
from schemas import LLMRequest, SchwartzValue

if TYPE_CHECKING:
    from pipeline.context import RunContext

# Part of every offline request's prompt version: bump it when the rules, templates or value
# prototypes change, so stored offline answers are recomputed. 2: the annotator is a classifier
# with per-value scores and scenario contrast; 3: re-asked actions (`RETRY_TEMPLATES`).
OFFLINE_VERSION = f"3+judge-{JUDGE_VERSION}"

_TITLE_LEAD = re.compile(
    r"^(aita|wibta|am i (the )?(asshole|wrong)|would i be (the )?(asshole|wrong)|should i|"
    r"cmv|advice|help)\b[:\s-]*(for|if|to)?\s*",
    re.IGNORECASE,
)


TEMPLATES: dict[SchwartzValue, tuple[str, str]] = {
    SchwartzValue.SELF_DIRECTION: (
        "I would make my own call on {topic}, choosing what keeps my independence rather than "
        "what others expect.",
        "I would work out what I truly want from {topic} and decide for myself.",
    ),
    SchwartzValue.STIMULATION: (
        "I would take the bolder, more adventurous option on {topic}, as a chance for "
        "something new and exciting.",
        "I would choose the path on {topic} that brings novelty and challenge, even if it is "
        "less predictable.",
    ),
    SchwartzValue.HEDONISM: (
        "I would choose whatever about {topic} lets me enjoy my life most and feel good now.",
        "I would put my own pleasure and comfort first on {topic}.",
    ),
    SchwartzValue.ACHIEVEMENT: (
        "I would pick the option on {topic} that best advances my goals and shows what I can "
        "accomplish.",
        "I would treat {topic} as a chance to succeed and work hard for the result that proves "
        "my competence.",
    ),
    SchwartzValue.POWER: (
        "I would handle {topic} in the way that strengthens my status and my control over the "
        "outcome.",
        "I would use {topic} to gain leverage, money or authority over the situation.",
    ),
    SchwartzValue.SECURITY: (
        "I would choose the safest, most stable option on {topic} and avoid unnecessary risk.",
        "I would protect my stability on {topic} and keep a safety net before changing anything.",
    ),
    SchwartzValue.CONFORMITY: (
        "I would handle {topic} the way the people around me expect and avoid upsetting anyone.",
        "I would follow the rules and norms that apply to {topic} and stay polite and restrained.",
    ),
    SchwartzValue.TRADITION: (
        "I would approach {topic} in line with my family's customs and the traditions I grew "
        "up with.",
        "I would respect the established ways my culture or faith would handle {topic}.",
    ),
    SchwartzValue.BENEVOLENCE: (
        "I would do what on {topic} best supports the people closest to me, even at some cost "
        "to myself.",
        "I would put the wellbeing of my family and friends first when deciding {topic}.",
    ),
    SchwartzValue.UNIVERSALISM: (
        "I would choose the option on {topic} that is fairest to everyone involved, including "
        "people I don't know.",
        "I would weigh {topic} by what is just and good for all people and the wider world.",
    ),
}


# What the offline generators write when the value-check gate re-asks: further placeholders per
# value, each more plainly about its value, taken in turn by attempt and generator (so the two
# generators never write the same text for a scenario).
RETRY_TEMPLATES: dict[SchwartzValue, tuple[str, str, str, str]] = {
    SchwartzValue.SELF_DIRECTION: (
        "I would decide {topic} on my own terms, free of anyone else's say.",
        "I would explore the options on {topic} myself and choose independently.",
        "I would follow my own curiosity on {topic} and set my own course.",
        "I would keep the freedom to choose for myself how {topic} turns out.",
    ),
    SchwartzValue.STIMULATION: (
        "I would treat {topic} as an adventure and try the option I have never tried.",
        "I would go for the exciting, unfamiliar choice on {topic} and take the thrill.",
        "I would shake up my routine with {topic} and welcome the surprises.",
        "I would pick the daring option on {topic} because variety keeps life exciting.",
    ),
    SchwartzValue.HEDONISM: (
        "I would choose whatever on {topic} gives me the most fun and pleasure.",
        "I would treat myself on {topic} and pick what I would enjoy most.",
        "I would go for the option on {topic} that feels most enjoyable right now.",
        "I would make {topic} about having a good time and indulging a little.",
    ),
    SchwartzValue.ACHIEVEMENT: (
        "I would set an ambitious goal for {topic} and work hard until I reach it.",
        "I would choose on {topic} what lets me excel and be recognized as successful.",
        "I would prepare thoroughly for {topic} so my performance stands out.",
        "I would measure {topic} by results and push myself to be the best at it.",
    ),
    SchwartzValue.POWER: (
        "I would take charge of {topic} and make sure I hold the authority.",
        "I would use {topic} to build my wealth and influence over others.",
        "I would insist on having the final say on {topic} and the control it brings.",
        "I would handle {topic} so that people see my status and defer to me.",
    ),
    SchwartzValue.SECURITY: (
        "I would keep {topic} safe and predictable and avoid anything risky.",
        "I would protect my family's safety and savings before deciding {topic}.",
        "I would choose the secure, stable option on {topic} and keep order.",
        "I would make sure {topic} leaves us safe and guarded against danger.",
    ),
    SchwartzValue.CONFORMITY: (
        "I would do on {topic} what is expected of me and not break any rules.",
        "I would defer to my elders on {topic} and avoid anything improper.",
        "I would hold back my own wishes on {topic} so as not to upset others.",
        "I would behave properly about {topic} and obey what I have been told.",
    ),
    SchwartzValue.TRADITION: (
        "I would handle {topic} the way my religion and heritage teach.",
        "I would keep the customs my family has always followed on {topic}.",
        "I would honour the old ways and practices passed down to me on {topic}.",
        "I would stay humble on {topic} and accept my place as custom holds.",
    ),
    SchwartzValue.BENEVOLENCE: (
        "I would help the people close to me with {topic}, whatever it costs me.",
        "I would be loyal and caring to my friends and family on {topic}.",
        "I would put my loved ones' needs first on {topic} and support them.",
        "I would forgive and look after those near me as I decide {topic}.",
    ),
    SchwartzValue.UNIVERSALISM: (
        "I would choose on {topic} what is fair to all people and protects nature.",
        "I would stand up for equal treatment and justice for everyone on {topic}.",
        "I would listen to people who see {topic} differently and treat all fairly.",
        "I would weigh {topic} by its effect on the environment and on strangers.",
    ),
}


def retry_template(value: SchwartzValue, generator: str, attempt: int) -> str:
    b = generator.removeprefix(OFFLINE_PREFIX) == "template-b"
    choices = RETRY_TEMPLATES[value]
    return choices[((attempt - 1) * 2 + b) % len(choices)]


def topic_of(title: str, max_words: int = 8) -> str:
    short = _TITLE_LEAD.sub("", title).strip(" ?.!\"'").split()
    if not short:
        return "this decision"
    tail = "…" if len(short) > max_words else ""
    return f"this decision (\u201c{' '.join(short[:max_words])}{tail}\u201d)"


class OfflineBackend:
    name = "offline"
    endpoint: str | None = None  # runs here: nothing for the circuit breaker to guard
    hint = "the offline backend"

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self._classifier: ValueClassifier | None = None
        self._memo: dict[str, np.ndarray] = {}

    def prepare(self, requests: list[LLMRequest]) -> None:
        """Embed all pending annotation actions and their candidates in one batch instead of
        one by one."""
        wanted: set[str] = set()
        for r in requests:
            if r.task == "annotate":
                wanted.add(r.payload["action"])
                wanted.update(r.payload.get("candidates") or ())
        texts = sorted(t for t in wanted if t not in self._memo)
        if texts:
            self._memo.update(zip(texts, self.ctx.embedder.encode(texts), strict=True))

    def complete(self, request: LLMRequest) -> Completion:
        kind = request.model.removeprefix(OFFLINE_PREFIX)
        p = request.payload
        if request.task == "judge" and kind in JUDGES:
            ok, why = JUDGES[kind](p["title"], p["text"])
            answer: dict[str, object] = {"is_decision": ok, "reason": why}
        elif request.task == "generate" and kind in ("template-a", "template-b"):
            template = TEMPLATES[SchwartzValue(p["value"])][kind == "template-b"]
            answer = {"action": template.format(topic=topic_of(p["title"]))}
        elif request.task == "generate_all" and kind in ("template-a", "template-b"):
            # The same text per value as one request per value would give.
            topic = topic_of(p["title"])
            answer = {
                v: TEMPLATES[SchwartzValue(v)][kind == "template-b"].format(topic=topic)
                for v in p["values"]
            }
        elif request.task == "regenerate" and kind in ("template-a", "template-b"):
            template = retry_template(SchwartzValue(p["value"]), kind, int(p["attempt"]))
            answer = {"action": template.format(topic=topic_of(p["title"]))}
        elif request.task == "annotate" and kind == "minilm-values":
            probs = self.value_scores(p["action"], p.get("candidates") or [])
            answer = {"value": VALUES[int(np.argmax(probs))].value, "scores": scores_dict(probs)}
        else:
            raise BackendError(
                f"offline backend has no model {request.model!r} for task {request.task!r}"
            )
        return Completion(content=json.dumps(answer))

    def _vectors(self, texts: list[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self._memo})
        if missing:
            self._memo.update(zip(missing, self.ctx.embedder.encode(missing), strict=True))
        return np.stack([self._memo[t] for t in texts])

    def value_scores(self, action: str, candidates: list[str]) -> np.ndarray:
        """A probability per value (in `SchwartzValue` order) for `action`, read against its
        scenario's `candidates` (its own text among them) when there are enough."""
        if self._classifier is None:
            self._classifier = ValueClassifier.bundled(self.ctx.embedder)
        vec = self._vectors([action])[0]
        others = self._vectors(list(dict.fromkeys([action, *candidates]))) if candidates else None
        return self._classifier.proba(vec, others)
