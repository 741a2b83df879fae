"""The offline judge panel: scored rules standing in for the model judges.

The panel's question is "is this a personal decision the poster faces, with several defensible
answers and enough context?". No single phrase answers it: "deciding between" two TV channels in
a story, a fact question shaped "X or Y?" and "AITA" on a post judging what was already done all
carry decision words. So each cue is read in its sentence (first person, present or future, asked
or weighed rather than told as past), and a post gets scores, not a match:

- `decision`: how strongly the poster asks about a choice still open to them, minus evidence
  that it is something else (a past act to be judged, a story, an update, a rant, a fact,
  recommendation or general question, a wish to cope rather than choose);
- `context`: how much of the poster's own situation and stakes the post gives, and whether it
  asks the readers about that situation at all, minus the same negative evidence.

The two judges take one view each (decision-focused, context-focused); the tiebreaker weighs both
scores with its own threshold, so a split vote can go either way.

The rules lean to precision: a release takes a few thousand scenarios from millions of posts, so
a borderline post can be passed over, while a wrong accept becomes a bad scenario. Hence a plea
alone ("what do I do?") is not a choice: some cue must name one; an AITA title asks for a verdict
on what was done unless the post says the choice is still open (WIBTA, an answer still to give),
weighs one, or its title names a stance still in force and the post looks ahead; an edit telling
that the poster has since acted closes the choice.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.text import words

# Bump when a cue, a weight or a threshold changes: stored offline answers are then recomputed.
JUDGE_VERSION = "3"

_I = r"(?:i|we)"
# "Where do I go?", "how would I tell her": a wh-question asks for a way or a place, not which way.
_NOT_WH = r"(?<!what )(?<!where )(?<!how )(?<!when )(?<!who )(?<!why )"
# "What movies should I get?", "how should I tell him?": a wh-question's "should I" asks for
# information or a way to do what is decided, not whether to; read as "shall", a plea at most.
# ("Which ... should I" is left alone: it names a choice.)
_ASKED_AT = (
    r"(?:^\W*|[,:;(*-]\W*|\b(?:so|or|and|but|now|then|is|wondering|wonder|basically|honestly|"
    r"seriously|reddit|guys|help|advice|tl;?dr|question)\W+)"
)
_WH_SHOULD = re.compile(r"\b(what|where|how|when|who|whom|why)\b([^,;:?]{0,40}?)\bshould\b")
_SENT_SPLIT = re.compile(r"(?<=[.?!])[\"')\]]*\s+|\n+")
_FIRST_PERSON = re.compile(r"\b(i|i'm|im|i've|i'd|i'll|me|my|myself|we|we're|our|us)\b")
_PAST = re.compile(
    r"\b(was|were|had|did|didn't|went|said|told|thought|got|ago|yesterday|last (night|week|month|"
    r"year|weekend|saturday|sunday|friday)|decided|chose|ended up|finally)\b"
)
_LIVE = re.compile(
    rf"\b(should|would|could|will|won't|(?<!was )(?<!were )going to|gonna|want to|wanna|"
    rf"plan(ning)? to|thinking "
    rf"(about|of)|considering|might|may|if {_I}|whether|do {_I}|am i|is it|now|currently|"
    rf"keep|can'?t|don'?t|do not|need to|have to|next|soon|think about it|by (monday|tuesday|"
    rf"wednesday|thursday|"
    rf"friday|saturday|sunday|the end)|deadline|tomorrow|this (week|weekend|month|year))\b"
)

# Cues that the poster weighs a choice still open to them. (pattern, weight); read per sentence.
# A named choice ("should I tell her", "whether to", "torn between") weighs more than a plea for
# guidance ("what do I do?"), which problems with no choice in them ask just as often.
_STRONG = 2.0
_MEDIUM = 1.2
_GUIDANCE = 0.8
_WEAK = 0.6
_DECISION_CUES: list[tuple[re.Pattern[str], float]] = [
    # "should I <act>", but not "should I have" (the past) nor "should I be worried" (a feeling)
    # Asked, at the head of a clause: "should I ... if" mid-statement ("the charges get harsher
    # should I deny it") is a condition.
    (
        re.compile(rf"{_ASKED_AT}should {_I} (?!(not )?have\b|be\b|feel\b|worry\b|care\b|do\b)"),
        _STRONG,
    ),
    (re.compile(r"\b(wibta|would i be (the|an|a) (asshole|ah|jerk|bad guy|wrong))\b"), _STRONG),
    (
        re.compile(
            rf"\b{_I} (just |really |still |honestly )?(can'?t|cannot|couldn'?t) (decide|choose|"
            rf"make up my mind)\b|\bhelp me decide\b|"
            rf"\b(don'?t|do not|doesn'?t|dont) (really |honestly |truly )?know (if|whether) "
            rf"({_I} should|to)\b(?! be\b| feel\b| worry\b)|\bwhat are my (best |other |real )?"
            rf"options\b|\bnot sure (if|whether) {_I} (should|want)\b(?! be\b| feel\b| worry\b)|"
            rf"\b(don'?t|do not|dont) "
            rf"(really |honestly |truly )?know (which|what) (to choose|to pick|is worse|is the "
            rf"right)\b|\bno idea what the right thing\b|\bwhat would you (weigh|choose|pick)\b|"
            rf"\bwhich would you\b|\bwould you (tell|take|go|stay|leave|sell|do it|say|report|"
            rf"keep|accept|let)\b"
        ),
        _STRONG,
    ),
    (
        re.compile(
            rf"\b(i'?m|i am|feel|feeling|really) torn\b|\btorn (between|about|on)\b|\bon the "
            rf"fence\b|\bgoing back and forth\b|\bkeep (going back and forth|changing my mind|"
            rf"flipping)\b|\b(debating|deciding) (whether|if|between)\b|\bleaning (toward|"
            rf"towards)\b|\bpros and cons\b|\bmy (two )?(realistic )?options\b|"
            rf"\b(my|our) options are\b|\bon (the )?one hand,|\bpart of me (wants|thinks|feels|"
            rf"loves)\b|\b(?<!not )(?<!n't )have to (decide|"
            rf"choose|give (them|him|her) an answer|answer)\b|\bneed to (decide|choose)\b|"
            rf"\b(answer|decision) (is due|by)\b|\bdecision day\b|\b{_I} need to (answer|give "
            rf"((him|her|them) )?an answer|let (him|"
            rf"her|them) know)\b|"
            rf"\btrying to decide\b|\btrying to (figure|work) out (what|which|whether) (to|{_I} "
            rf"should)\b|\b(is|are|'s|'re|keeps?|has been|have been) (asking|begging|pressuring|"
            rf"pushing) (me|us) (again )?(to|for|if|whether|this|next)\b|\bwould (i |we )?"
            rf"consider\b(?! (myself|ourselves|me|us|my|our)\b)|\b(?<!you )(feel "
            rf"like|think|guess) {_I} (should|ought to) (?!have\b|be\b|add\b|mention\b|"
            rf"clarify\b|note\b|"
            rf"explain\b|point\b|say\b|start\b|preface\b)|\b(don'?t|do "
            rf"not|dont) (even )?know how to (approach|handle|deal with|tell|respond|react|"
            rf"proceed)\b|\bhow would you (handle|deal with|approach|proceed)\b|\bis it my "
            rf"place\b"
        ),
        _MEDIUM,
    ),
    (
        re.compile(
            rf"\bwould it be (wrong|selfish|unreasonable|unfair|a mistake|okay|ok|fair|crazy|"
            rf"stupid|smart)\b|\bis it (wrong|selfish|unreasonable|fair|okay|ok|worth|right|"
            rf"crazy|a mistake|too much) (for (me|us) to|of me to|if (i|we)|to)\b(?! (feel|be|"
            rf"think|hope)\b)|\bis it worth\b|\bam i "
            rf"(crazy|wrong|selfish|unreasonable|overreacting) (to|for) (want|think|consider|even)|"
            rf"\b(thinking|thought) (about|of) (quitting|leaving|moving|telling|breaking|taking|"
            rf"selling|asking|going|dropping|ending|reporting|charging|cutting)\b|\bconsidering "
            rf"(quitting|leaving|moving|telling|breaking|taking|selling|asking|going|dropping|"
            rf"ending|reporting|charging|cutting|whether)\b|\b{_NOT_WH}(do|would) {_I} (tell|"
            rf"stay|go|"
            rf"leave|take|quit|accept|keep|let|move|ask|report|confront|end|sell|say|cut|"
            rf"forgive|give|pay|lend)\b(?! about)|"
            rf"\bthe right (thing to do|call|choice|decision)\b(?=.*\?$)|"
            rf"\bright call\b|\bam i crazy\b|"
            # a request put to the poster, not yet answered
            rf"\b(i'?d|i would|i will|i'?ll|let me) think about it\b|\bhaven'?t (answered|replied|"
            rf"responded)( to (him|her|them))? yet\b|\bhaven'?t (given (him|her|them) an answer|"
            rf"decided)\b|\bget back to (him|her|them) "
            rf"(on|about|with|by|soon|tomorrow)\b"
        ),
        _MEDIUM,
    ),
    (
        re.compile(
            rf"\b(is it|would it be|isn'?t it) (smarter|wiser|a mistake|selfish|wrong|right|fair|"
            rf"unfair|unreasonable) (for me |of me )?to\b|\bwould {_I} regret\b|\b{_I} "
            rf"ought to\b(?! have)|\b(maybe|perhaps|think|feel like|wonder if|whether|if|why) {_I} "
            rf"shouldn'?t (?!have\b|be\b|know\b|feel\b)|\bwhat do {_I} owe\b|"
            rf"\b(stuck|torn) (between|on "
            rf"(a|this|the) decision)\b|\bdecide (whether|if|between|what to)\b|\bwhether to\b"
        ),
        _MEDIUM,
    ),
    # Pleas for guidance: as often about a problem with no choice in it as about a dilemma.
    (
        re.compile(
            rf"\bwhat (should|do|would|can|shall) {_I} (do|say)\b|"
            rf"\bwhat am i (supposed |going |meant )?to "
            rf"do\b|\bwhat (would|should) you do\b|\b(don'?t|do not|dont) (really |honestly "
            rf"|truly |even )?know what to do\b|\bno idea what to do\b|\bnot sure what to do\b|"
            rf"\bwhat do\b.{{0,12}}\?|\bwhere do i (even )?start\b"
        ),
        _GUIDANCE,
    ),
    (
        re.compile(
            rf"\b(i|we) (want|need|would like) (some )?(advice|input|perspective|opinions|"
            rf"outside eyes)\b|\badvice\?|\bany (advice|thoughts|input|perspective)\b|\bthoughts\?|"
            rf"\bwhat do you (think|guys think)\b|\bhow do (couples|people) (make|decide|handle)\b|"
            rf"\bhow did (people|you) .{{0,40}}decide\b|\bin my (position|shoes|situation)\b|"
            rf"\bor (should|do|would|can) {_I}\b|\b{_I} could (either )?\w+ .{{0,80}}\bor\b|"
            rf"\b(wants?|expects?) (me|us) to\b"
        ),
        _WEAK,
    ),
]
# A title asking about a step of one's own: "Go to my estranged father's funeral?"
_TITLE_CHOICE = re.compile(
    r"^(go|tell|take|stay|quit|accept|keep|report|move|sell|buy|let|use|pay|lend|leave|"
    r"confront|break up|drop|cut|forgive|invite|skip|turn down|ask|switch|transfer|return|"
    r"join|sign|co-?sign|end|marry|propose|homeschool|call|text|apologi[sz]e)\b"
)
# "X or Y?" asked by the poster about what they will do, not about a fact.
_OR_QUESTION = re.compile(
    rf"^(?!(\w+, )?(how|is there anything|what can)\b).*\b((should|do|can|would|could) {_I}|"
    rf"{_I} (should|could|would|will|can))\b"
    rf".{{0,160}}\bor\b.{{0,160}}\?$"
)
# An asked "X, or Y?" between two steps without a first person: weak on its own.
_TWO_STEPS = re.compile(r"[:,]\s*\w+ .{3,120},? or \w+ .{3,120}\?$|\bto \w+ .{3,120}\bor (to )?\w+")
# A question put to the readers ("What would you do?") needs no first person of its own.
_TO_READER = re.compile(r"\b(you|reddit|anyone)\b.*\?$")
_MADE = re.compile(
    r"(?<!if )\b(i|we) (finally )?(decided|chose|picked|ended up|took the|left|quit|handed in|said "
    r"yes|went with)\b|\b(best|right) decision i\b|\bno regrets\b|\bit worked out\b"
)

# Negative evidence, on the whole post or on its question sentences.
_UPDATE = re.compile(
    r"^\W*(update|updated|follow[- ]?up|final update)\b|\boriginal post\b|\bthis is a "
    r"follow[- ]?up\b|\bupdate "
    r"(on|to) my\b|\bthanks? (you )?(to )?(every(one|body)|all|reddit|you all|guys)\b.{0,40}"
    r"\b(advice|replies|responses|comments|input|help)\b"
)
# An edit added after readers answered ("Edit: I spoke to him today and it went well"): what it
# tells is what happened since, so a choice it reports as acted on is no longer open.
_EDIT = re.compile(
    r"^\W*(edit|eta|update|edited|final edit|(\w+ \d+:?\d* ?(am|pm)? )?follow[- ]?up)\s*\d*\b"
)
_RESOLVED = re.compile(
    r"\b(i|we) (have |just )?(apologi[sz]ed|talked (to|with) (him|her|them)|spoke (to|with) (him|"
    r"her|them)|sat (him|her|them) down|made up|broke up|decided (to|not to|against)|went ahead|"
    r"ended (it|things)|called (him|her|them) back)\b|\bit (actually )?went (well|better|"
    r"smoother|great|fine|ok|okay)\b|\bwe('re| are) (good|fine|okay|ok) now\b|\bproblem "
    r"(is )?solved\b|\b(resolved|sorted it out|worked it out)\b|\b(i|we)('ll| will| am going to|"
    r"'m going to|'re going to| are going to) (?!update|post|reply|respond|read|edit|answer|"
    r"add|try to (reply|respond|answer))\w+|\bit turns out\b"
)
_RANT = re.compile(
    r"^\W*(rant|vent)\b|\((rant|vent)\)|\b(off my chest|no advice needed|not (looking|asking) "
    r"for advice|don'?t need advice|rant over|this is (just )?a (rant|vent)|(just )?(needed|"
    r"wanted|need|want) to (vent|rant|say it|get (this|it) out|yell|write (this|it) down|share|"
    r"tell someone))\b|\b(rant|vent)$"
)
_STORY = re.compile(
    r"^\s*(tifu|til|psa|iama|reminder|to anyone|for anyone|just a (reminder|fun question))\b|"
    r"\b(a cautionary tale|lessons? learned)\b|"
    r"\b(just wanted to share|sharing in case|not really an aita|funny story|if you'?re in the "
    r"same spot|you'?ve got this|hug your)\b"
)
_FACT_Q = re.compile(
    r"^(how (do|does|can|is|are|long|much|many|often|hard|easy|complicated|difficult|"
    r"expensive)|is (it|this|that|my|a|an|there|the) (legal|allowed|normal|true|taxed|required|"
    r"possible|cheaper|better|worse|calculated|different|safe|hard|easy|difficult|expensive)|"
    r"can (my|an|the|a) (employer|landlord|company|school|boss|bank|it)|"
    r"does (anyone|a|an|the|my|it|this|that|changing)|do (etfs?|programs|employers|i need|"
    r"companies|they|you need|admissions)|what (is|are|happens|does|do|was)\b(?! (you|reddit|"
    r"people|everyone|y'?all)( guys)? think)|when (do|does|will|"
    r"is)|where (can|do|should) (i|you) (find|get|buy|go|order)|which (app|site|brand|bank|"
    r"laptop|book|one is|program|account|citation)|are there|will (i|my|the|it)|who do i "
    r"(contact|call))\b"
)
# Questions of law or rights ("can I complain to police?", "what are my rights?") and of what
# someone else feels or means ("is this girl attracted to me?"): facts to learn, not a choice.
_LEGAL_OR_MIND_Q = re.compile(
    r"\b(what are my (legal )?(rights|options legally)|is (it|this|that|what \w+ did) (even )?"
    r"legal|legally|(?<!-)laws?|lawsuit|sue (him|her|them|my)|press charges|complain to "
    r"(the )?police|"
    r"do i have (a|any) (case|rights|legal)|(is|does|do|did) (she|he|this (girl|guy)|that (girl|"
    r"guy)|my (crush|ex)) (like|likes|love|into|attracted|interested|flirting|mean|have feelings)"
    r"|does (this|that|it) mean (anything|something|she|he))\b"
)


def _is_fact_q(sentence: str) -> bool:
    return bool(_FACT_Q.search(sentence) or _LEGAL_OR_MIND_Q.search(sentence))


_RECOMMEND = re.compile(
    r"\b((can|could|would) (you|anyone) recommend|recommend (me )?(a|an|some|any)\b|"
    r"recommendations?( for| on)?\?|recommendations for|suggestions for|any tips|best (app|"
    r"budget|way|site|books?|laptop)|"
    r"what are you (all )?using|which .{0,30} (are you|have you|do you) (using|use)|what are "
    r"some|did your kids love|(would|could|can|do) (you|anyone) suggest|suggestions\?|what "
    r"(movies|games|books|shows|apps|songs|gifts?|laptop|phone|car|brand) (should|would|could|"
    r"do|shall) (i|you))\b"
)
_GENERAL_Q = re.compile(
    r"\b(how do you (all|guys)\b|have you ever|anyone else (feel|have|do|think)|what'?s the (best|"
    r"most|weirdest|worst)|what was your|what are your (favou?rite|go-to|best)|just curious|"
    r"^(married people|ladies|guys|hr folks|parents|men|women),|"
    r"what would you do (if|with) (you|a)|how did you (get through|break|deal|get past|get over))"
)
# A title put to all readers ("Do you or have you ever...?"); in the body, "would you tell her?"
# is about the poster's own choice, so only the title is read.
_ASKS_ALL = re.compile(r"^\W*(do|have|did|has|does) (you|anyone|any of you|y'?all)\b")
_COPING = re.compile(
    r"\bhow (do|can|did) (i|you) (stop|get over|cope|deal with (this|it|my|the feeling)|move on|"
    r"let go|forget|break the habit|get (myself )?motivated|get through)\b|\bhow do i stop\b"
)
# "How do I go about requesting leave?": a procedure, not a choice (telling or confronting
# someone is left to the other cues).
_HOWTO = re.compile(
    r"^how (to|(do|can|should|would|does) (i|we|one|you)) (?!tell|approach|handle|deal|confront|"
    r"break|talk|say|respond|react|cope|get over|stop|move on|let go|choose|decide|pick)"
)
_CMV_OPINION = re.compile(r"^\s*(cmv|change my view)\b")
_AITA_TITLE = re.compile(
    r"^\s*[\[(]?(aita|aitah|am i (the|an|a) (asshole|ah|jerk)|was i (wrong|the asshole|an "
    r"asshole))\b"
)
# AITA titles about a stance still in force ("for refusing to...") rather than a finished act.
_AITA_STANCE = re.compile(
    r"\bfor (refusing|not wanting|wanting|not letting|not allowing|keeping|insisting|remaining|"
    r"not inviting|serving|expecting|not supporting|"
    r"staying|still|not (paying|lending|giving|going|changing|moving|sharing|co-?signing|"
    r"taking|attending|letting)|planning|considering|charging|asking)\b"
)
# "... so I decided not to attend": the poster tells the step judged as taken.
_AITA_DONE = re.compile(
    r"(?<!if )\b(i|we) (finally |eventually |then |just )?((decided|chose) (not )?to|backed "
    r"(out|down)|gave in|caved)\b"
)
_AHEAD = re.compile(
    r"\b(will|won'?t|(?<!was )(?<!were )going to|gonna|planning|plan to|next (week|month|year|"
    r"weekend|summer|"
    r"season|time)|(is|are) (in|on|next|coming)|isn'?t (for|until)|upcoming|soon|tomorrow|"
    r"tonight|this (weekend|week|month|year|summer)|in (january|february|march|april|may|june|"
    r"july|august|september|october|november|december)|if i (do|don'?t|tell|say|go|keep|let|"
    r"change|stop|refuse|agree)|crossroads|from now on|still (want|refus|won'?t|don'?t)|keeps? "
    r"(asking|telling|pushing|insisting)|(is|are) asking|getting married|wedding is|going to be)\b"
)
_AITA_LIVE = re.compile(
    rf"\b(now (she|he|they|my \w+) (wants|want|is asking|are asking) (me|us) to|have to "
    rf"(give ((him|her|them) )?an answer|decide|answer)|(i'?m|am) (planning|thinking (about|"
    rf"of))|{_ASKED_AT}should {_I} (?!(not )?have\b)|"
    rf"wibta|would i be|^\W*(aita|aitah|am i the asshole|would it be wrong) if (i|we))\b"
)
_ASK = re.compile(
    r"\?|\b(advice|thoughts|help|opinions|input|perspective|suggestions|insight|what do you "
    r"think|what would you)\b"
)
_STAKES = re.compile(
    r"\b(wife|husband|partner|boyfriend|girlfriend|bf|gf|fianc[eé]e?|ex|mom|mum|mother|dad|"
    r"father|parents?|sister|brother|son|daughter|kids?|children|baby|family|friend|"
    r"roommate|boss|manager|coworker|job|career|offer|salary|rent|loan|debt|savings|money|"
    r"\$\d|school|college|degree|program|phd|wedding|marriage|married|relationship|health|"
    r"house|move|moving|lease)\b"
)


@dataclass
class Scores:
    """A post's two scores with the evidence behind them (the reason a vote gives)."""

    decision: float = 0.0
    context: float = 0.0
    named: float = 0.0  # the strongest single cue, as read in its sentence
    cues: list[str] = field(default_factory=list)
    against: list[str] = field(default_factory=list)

    def reason(self, accepted: bool) -> str:
        if accepted:
            why = self.cues or ["the poster's own situation, with an ask about it"]
        else:
            why = self.against or ["no open choice is asked"]
        return "; ".join(why[:3])


_QUOTED = re.compile(r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”")


def _split(text: str) -> list[str]:
    return [p.strip().lower().replace("’", "'") for p in _SENT_SPLIT.split(text) if p and p.strip()]


def _sentences(title: str, text: str) -> tuple[list[str], int]:
    """The title's sentences, then the body's, lower-cased, and how many are the title's; quoted
    speech (what someone said back then) is left out of the body, since it is not the poster's
    own question. A title can hold several sentences ("X happened. What do I do?")."""
    head = _split(title.strip())
    return [*head, *_split(_QUOTED.sub("…", text).strip())], len(head)


def _is_past(sentence: str) -> bool:
    """Told as something that happened, with nothing still to decide in the sentence."""
    return bool(_PAST.search(sentence)) and not _LIVE.search(sentence)


def score(title: str, text: str) -> Scores:
    s = Scores()
    sents, n_title = _sentences(title, text)
    head = " ".join(sents[:n_title])
    body = " ".join(sents)
    n_words = len(words(f"{title} {text}"))

    # Decision cues, each in the sentence it stands in.
    cued: set[int] = set()
    found: list[float] = []
    for i, sent in enumerate(sents):
        best = 0.0
        plain = _WH_SHOULD.sub(r"\1\2shall", sent) if "should" in sent else sent
        for pattern, weight in _DECISION_CUES:
            if pattern.search(plain):
                best = max(best, weight)
        asked_here = sent.endswith("?")
        if (
            asked_here
            and not _is_fact_q(sent)
            and (_OR_QUESTION.search(sent) or (i == 0 and _TITLE_CHOICE.search(sent)))
        ):
            best = max(best, _MEDIUM)
        elif asked_here and not _is_fact_q(sent) and _TWO_STEPS.search(sent):
            best = max(best, _WEAK)  # "Honest opinions please: sell it, or keep it?"
        if best and not asked_here and _is_past(sent):
            best *= 0.25  # "we were deciding between two channels", "I couldn't decide, so..."
        if best and i >= n_title and not _FIRST_PERSON.search(sent) and not _TO_READER.search(sent):
            best *= 0.5
        if best:
            cued.add(i)
            found.append(best)
            if best >= _MEDIUM and len(s.cues) < 3:
                s.cues.append(f"asks about an open choice ({sent[:60]!r})")
    # The strongest cue counts whole, the others half: repeating a plea is not a choice.
    found.sort(reverse=True)
    s.named = found[0] if found else 0.0
    s.decision = min(found[0] + sum(found[1:]) * OTHER_CUES, 5.0) if found else 0.0

    # What the question sentences ask.
    asked = [(i, q) for i, q in enumerate(sents) if q.endswith("?")]
    fact_qs = sum(_is_fact_q(q) and i not in cued for i, q in asked)
    ending = " ".join([head, *sents[-3:]])

    # Negative evidence.
    penalties: list[tuple[float, str]] = []
    if _UPDATE.search(head) or _UPDATE.search(body[:400]):
        penalties.append((3.0, "an update on an earlier post"))
    if _RANT.search(body):
        asks_advice = re.search(r"\b(advice|what (should|do) (i|we) do)\b", body)
        penalties.append((1.0 if asks_advice else 2.5, "a rant or vent, no advice asked"))
    if _STORY.search(head) or _STORY.search(body):
        penalties.append((2.5, "a story, tip or announcement"))
    edits = [i for i in range(n_title, len(sents)) if _EDIT.search(sents[i])]
    if any(_RESOLVED.search(x) for i in edits for x in sents[i : i + EDIT_SPAN]):
        penalties.append((2.5, "an edit tells the choice has been acted on"))
    if _MADE.search(ending) and s.decision < _STRONG:
        penalties.append((1.5, "the decision is already made"))
    if asked and fact_qs >= max(1, len(asked) - 1) and s.decision < 2 * _STRONG:
        penalties.append((2.0, "asks for facts"))
    if _HOWTO.search(head):
        penalties.append((2.5, "asks how to do something"))
    if _RECOMMEND.search(body):
        penalties.append((2.0, "asks for recommendations"))
    if any(_GENERAL_Q.search(x) for x in sents) or _ASKS_ALL.search(head):
        penalties.append((2.0, "a question to everyone, not about the poster's choice"))
    if _COPING.search(body) and s.decision < _STRONG:
        penalties.append((2.0, "asks how to cope, not what to choose"))
    if _CMV_OPINION.search(head) and not re.search(r"\b(i|me|my)\b", head):
        penalties.append((2.0, "an opinion on the world, not a personal choice"))
    if _AITA_TITLE.search(head):
        # A verdict is asked; the choice is still open only when the post weighs one itself,
        # says so (WIBTA, "AITA if I...", an answer still to give), or its title names a stance
        # still in force ("for refusing to...") and the post looks ahead (the wedding is next
        # year). A title naming an act ("for telling...") is a verdict on what was done, however
        # much its story looks ahead; so is a post telling "so I decided not to go".
        ahead = sum(bool(_AHEAD.search(x)) and not _is_past(x) for x in sents[n_title:])
        at_end = any(_AHEAD.search(x) and not _is_past(x) for x in sents[-4:])
        stance = bool(_AITA_STANCE.search(head)) and (
            ahead >= STANCE_AHEAD_MIN or (ahead and at_end)
        )
        weighed = s.decision >= _MEDIUM  # the post itself weighs a choice
        done = any(_AITA_DONE.search(x) for x in sents[n_title:])
        if not done and (weighed or _AITA_LIVE.search(body) or stance):
            s.decision += _MEDIUM
            s.named = max(s.named, _MEDIUM)
            s.cues.append("the choice judged is still open")
        else:
            penalties.append((2.5, "asks for a verdict on a past act"))
    if s.named < _MEDIUM:
        # "What do I do?" alone: as often a problem with no choice in it (a breakdown, a tooth
        # that hurts) as a dilemma; a release can afford to pass on the dilemmas it hides.
        penalties.append((NO_CHOICE_PENALTY, "no choice named, a plea for guidance at most"))
    if s.decision < _MEDIUM and not asked and not _ASK.search(body):
        penalties.append((1.5, "asks nothing"))
    penalty = sum(p for p, _ in penalties)
    s.against = [why for _, why in sorted(penalties, reverse=True)]

    # Context and stakes: the poster's own situation, told at some length, with people or
    # things at stake, and an ask about it.
    fp = sum(bool(_FIRST_PERSON.search(x)) for x in sents) / max(len(sents), 1)
    stakes = len({m.group(0) for m in _STAKES.finditer(body)})
    s.context = (
        min(n_words, 200) / 100  # up to 2 for a post of 200 words or more
        + 2.0 * fp
        + min(stakes, 5) * 0.3
        + (1.0 if _ASK.search(body) else 0.0)
        + (0.5 if any(_FIRST_PERSON.search(q) for _, q in asked) else 0.0)
        + min(s.decision, 2.0) * 0.5
        - penalty
    )
    s.decision -= penalty
    if n_words < 40:
        s.context -= 2.0
        s.against.insert(0, "too little context")
    return s


NO_CHOICE_PENALTY = 1.5  # enough to reject a plea with a long story around it
# A stance ("for refusing to...") is taken as still in force when the post looks ahead more than
# once, or at its end: a single "tomorrow" mid-story is as often the day of an act now over.
STANCE_AHEAD_MIN = 2
EDIT_SPAN = 5  # sentences read as an edit's, from its "Edit:" on; an edit is short
# Thresholds: each judge's own, and the tiebreaker's on the combined score.
OTHER_CUES = 0.5  # weight of every cue after the strongest
DECISION_MIN = 1.2
CONTEXT_MIN = 4.6
CONTEXT_DECISION_MIN = 0.9  # the context judge's floor on decision evidence: a plea and a cue
COMBINED_MIN = -0.2
# Past "enough", more context does not make a post more of a decision.
CONTEXT_CAP = 1.0


def decision_judge(s: Scores) -> bool:
    """Decision-focused: an open choice is asked about, whatever the length."""
    return s.decision >= DECISION_MIN


def context_judge(s: Scores) -> bool:
    """Context-focused: the poster's own situation with stakes, told at some length, and at
    least a faint ask about their own choice; no negative evidence outweighing it."""
    return s.context >= CONTEXT_MIN and s.decision >= CONTEXT_DECISION_MIN


def combined(s: Scores) -> float:
    """Both views on one scale, each score measured from its judge's threshold (context only
    up to CONTEXT_CAP above its own)."""
    return (s.decision - DECISION_MIN) + 0.8 * min(s.context - CONTEXT_MIN, CONTEXT_CAP)


def combined_judge(s: Scores) -> bool:
    """The tiebreaker: the sum of both margins against its own threshold, so the stronger
    view wins a split."""
    return combined(s) >= COMBINED_MIN


# Each post is asked of two or three judges in turn: score it once.
_scored = functools.lru_cache(maxsize=1024)(score)


def _answer(judge: Callable[[Scores], bool]) -> Callable[[str, str], tuple[bool, str]]:
    def vote(title: str, text: str) -> tuple[bool, str]:
        s = _scored(title, text)
        ok = judge(s)
        return ok, s.reason(ok)

    return vote


JUDGES: dict[str, Callable[[str, str], tuple[bool, str]]] = {
    "decision-rules": _answer(decision_judge),
    "context-rules": _answer(context_judge),
    "combined-score": _answer(combined_judge),
}


def panel(title: str, text: str) -> tuple[bool, bool, bool, bool]:
    """(decision judge, context judge, tiebreaker, panel) as `pipeline.judge` combines them."""
    s = _scored(title, text)
    a, b, t = decision_judge(s), context_judge(s), combined_judge(s)
    return a, b, t, (a if a == b else t)
