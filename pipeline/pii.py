"""Personal information out of every text that leaves the store (model prompts, releases).

`find(text)` returns typed spans, `scrub(text)` replaces each by its placeholder (`[EMAIL]`,
`[PHONE]`, `[URL]`, `[USER]`, `[NAME]`). Everything runs offline: regular expressions for
emails (also "name at gmail dot com"), links (also bare `example.com`) and Reddit/@ handles
(and the bare mentions of a handle the text names), Google's `phonenumbers` (US and UK numbers,
any number written with "+"/"00") plus 3-3-4 shapes for phone numbers, and for names the US
Census 1990 first-name and surname lists bundled in `pipeline/data` (public domain, with a
hand-written list of newer and non-US names; `scripts/make_name_lists.py`) combined with
context, since no NER model can be fetched at run time. Look-alikes match none of the
patterns: `r/sub`, money, `401(k)`, dates, times, ages like `28F` or `(32M)`, versions, years.

Names are the uncertain kind, so the rules follow what a reader sees:
- a listed name that is not an English word (Sarah) is a name wherever it is capitalised,
  except after "the"/"a" ("the Harley"), in a place or organisation phrase ("St. Helena",
  "Jordan River"), before a number ("Guy 5") or in a Title Case line;
- a name that is also a word (Will, Rose, May, Bill, Faith) needs context: after a relation
  cue ("my friend", "named", "Dr."), between a verb and a connector ("told Will about"),
  before a person's verb ("said", "and I", "(28M)"), or capitalised inside a sentence that is
  not Title Case and not after a determiner; months, virtues, places and brands only with a
  cue or a person's verb, and never after "in"/"to"/"from";
- an unlisted capitalised word is a name only after a relation cue ("my coworker Aditi");
- a word taken as a name once is that person throughout the text, except where a sentence
  starts with it as a word ("Will you", "Hope this helps");
- a listed surname right after a name joins it ("Sarah Johnson" is one `[NAME]`).
Figures: `scripts/eval_pii.py` on `tests/fixtures/pii_labelled.jsonl` (tests/test_pii.py
holds them) and on real posts (README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import phonenumbers

from pipeline.settings import PIIKind, PIISettings

Kind = PIIKind
KINDS: tuple[Kind, ...] = ("EMAIL", "URL", "USER", "PHONE", "NAME")  # priority on a tie
# Bump when the recognizers change: part of the prompt fingerprint and of the release.
PII_VERSION = "1"
DATA = Path(__file__).with_name("data")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: Kind

    @property
    def placeholder(self) -> str:
        return f"[{self.kind}]"


# --- emails, links, handles ----------------------------------------------------------------

_TLDS = (
    "com|org|net|edu|gov|mil|int|io|co|uk|ca|de|fr|au|nz|ie|info|biz|ly|gg|tv|app|dev|ai|xyz|"
    "ru|jp|cn|nl|se|eu|es|ch|br|mx|pl|pt|dk|fi|no|be|at|it|in|me|us|to|is|so|ly|fm|cc|ws|site|"
    "online|store|shop|blog|news|page|link|club|tech|live|world|org\\.uk|co\\.uk|com\\.au"
)
# TLDs that are English words: a bare "word.it" is a typo'd sentence end far more often than a
# domain, so these count only with a path ("youtu.be/x") or "www.".
_WORD_TLDS = frozenset("no be at it in me us to is so".split())
_MAIL_DOMAINS = (
    "gmail|googlemail|yahoo|hotmail|outlook|live|msn|icloud|me|mac|aol|proton|protonmail|"
    "gmx|mail|yandex|zoho|comcast|att|verizon"
)
_AT = r"(?:\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+|\s*@\s*|\s+AT\s+)"
_DOT = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+|\s+DOT\s+|\.)"
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]*\w@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,24}\b")
# "jane.doe at gmail dot com", "jane [at] proton [dot] me": spelled out, so the separator or a
# mail provider must make it unambiguous ("look at google.com" is a link, not an email).
_EMAIL_SPELLED = re.compile(
    rf"(?<![\w.+-])[A-Za-z0-9][\w.+-]*(?:{_DOT}[\w+-]+)*?{_AT}(?:(?P<provider>{_MAIL_DOMAINS})|[\w-]+)"
    rf"(?:{_DOT}[\w-]+)*?{_DOT}(?:com|net|org|edu|co\.uk|co|io|me|uk|ca|de|us|info)\b",
    re.IGNORECASE,
)
_URL_SCHEME = re.compile(r"(?i)\b(?:https?|ftp)://[^\s<>\"'\]\[`]+|\bwww\d?\.[^\s<>\"'\]\[`]+")
_URL_BARE = re.compile(
    rf"(?<![\w@/.\\-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+"
    rf"(?P<tld>{_TLDS})(?::\d{{2,5}})?(?P<path>/[^\s<>\"'\]\[`]*)?(?![\w@-])"
)
_URL_PATHED = re.compile(
    r"(?<![\w@/.\\-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,10}/[\w-][^\s<>\"'\]\[`]*"
)
_TRAILING = ".,;:!?*_~"
# u/name, /u/name (Reddit: 3-20 of letters, digits, _ and -), and @handles.
_USER = re.compile(
    r"(?<![\w/])/?(?:u|user)/[A-Za-z0-9_-]{3,20}\b|(?<![\w@.\]])@[A-Za-z0-9_](?:[\w.-]{0,28}\w)?\b"
)


def _trim_url(text: str, start: int, end: int) -> int:
    """Trailing punctuation and an unbalanced ")" (a markdown link's) are not the link's."""
    while end > start:
        c = text[end - 1]
        if c in _TRAILING or (
            c == ")" and text.count("(", start, end) < text.count(")", start, end)
        ):
            end -= 1
        else:
            break
    return end


def _emails(text: str) -> list[Span]:
    spans = [Span(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text)]
    for m in _EMAIL_SPELLED.finditer(text):
        spelled = re.search(r"\bdot\b|[\[({<]\s*at", m.group(), re.IGNORECASE)
        if "@" in m.group() or spelled or m.group("provider"):
            spans.append(Span(m.start(), m.end(), "EMAIL"))
    return spans


def _urls(text: str) -> list[Span]:
    spans = []
    for m in _URL_SCHEME.finditer(text):
        spans.append(Span(m.start(), _trim_url(text, m.start(), m.end()), "URL"))
    for m in _URL_BARE.finditer(text):
        tld = m.group("tld")
        if tld != tld.lower() or (tld in _WORD_TLDS and not m.group("path")):
            continue
        spans.append(Span(m.start(), _trim_url(text, m.start(), m.end()), "URL"))
    # Any other lower-case TLD counts when a path follows ("forms.gle/AbC1").
    for m in _URL_PATHED.finditer(text):
        spans.append(Span(m.start(), _trim_url(text, m.start(), m.end()), "URL"))
    return spans


def _distinctive(handle: str) -> bool:
    """A handle unlike an ordinary word, so its bare mentions can be replaced too."""
    return len(handle) >= 4 and (
        any(c.isdigit() or c in "_-" for c in handle)
        or any(c.isupper() for c in handle[1:])
        or len(handle) >= 10
    )


def _users(text: str) -> list[Span]:
    """Handles, and the bare mentions of a distinctive handle the text also names as one
    ("[fas2](/user/fas2)", "thanks to NRS1 u/NRS1")."""
    spans = [Span(m.start(), m.end(), "USER") for m in _USER.finditer(text)]
    handles = {re.split(r"[/@]", text[s.start : s.end])[-1] for s in spans}
    for handle in filter(_distinctive, handles):
        for m in re.finditer(rf"(?<![\w/@-]){re.escape(handle)}(?![\w-])", text):
            spans.append(Span(m.start(), m.end(), "USER"))
    return spans


# --- phone numbers ---------------------------------------------------------------------------

# Shapes that are phone numbers whatever the digits (phonenumbers rejects unassigned ranges such
# as 555-01xx, which people still write): NANP 3-3-4 with separators, and international "+"/"00".
_PHONE_SHAPES = re.compile(
    r"(?<![\w$€£.,/:+-])(?:"
    r"(?:\+?1[\s.-])?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}"
    r"|(?:\+|00)[1-9]\d{0,2}(?:[\s.-]?\(?\d{1,5}\)?){2,5}"
    r")(?![\w/-]|[.,]\d)"
)
_PHONE_REGIONS = ("US", "GB")


def _phones(text: str) -> list[Span]:
    spans: list[Span] = []
    if sum(c.isdigit() for c in text) < 7:
        return spans
    for region in _PHONE_REGIONS:
        for pm in phonenumbers.PhoneNumberMatcher(text, region, phonenumbers.Leniency.VALID):
            start = pm.start + (pm.raw_string.startswith("(") and ")" not in pm.raw_string)
            spans.append(Span(start, pm.end, "PHONE"))
    for m in _PHONE_SHAPES.finditer(text):
        digits = sum(c.isdigit() for c in m.group())
        start, end, raw = m.start(), m.end(), m.group()
        start += raw.startswith("(") and ")" not in raw  # "(206-555-0143" in "ex (206-...)"
        end -= raw.endswith(")") and raw.count(")") > raw.count("(")
        if 10 <= digits <= 15:
            spans.append(Span(start, end, "PHONE"))
    return spans


# --- names -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lists:
    first: frozenset[str]  # not English words: a name wherever capitalised
    first_words: frozenset[str]  # also words: a name only with context
    last: frozenset[str]
    last_words: frozenset[str]
    strict: frozenset[str]  # months, places, brands: only with a cue or a verb after


@cache
def _lists() -> _Lists:
    def read(name: str) -> tuple[set[str], set[str]]:
        plain: set[str] = set()
        words: set[str] = set()
        for line in (DATA / name).read_text().splitlines():
            if line and not line.startswith("#"):
                name_, word = line.split("\t")[:2]
                (words if word == "1" else plain).add(name_)
        return plain, words

    first, first_words = read("first_names.tsv")
    last, last_words = read("last_names.tsv")
    # Names so common that a capitalised use is almost always the name, although the dictionary
    # lists the word (john, mike, nick): no context needed.
    common = {
        "John", "Mike", "Peter", "Nick", "Matt", "Josh", "Tom", "Tony", "Harry", "Jimmy",
        "Maria", "Martin", "Ken", "Max", "Rick", "Roger", "Victor", "Hector", "Brad", "Chad",
        "Colleen", "Derrick", "Terry", "Troy", "Wade", "Warren", "Hank", "Carol", "Sally",
        "Sherry", "Patsy", "Bobby", "Billy", "Mickey", "Barney", "Jasmine", "Heather",
        "Jasper", "Phoebe", "Rosemary", "Savannah", "Sierra", "Ebony", "Dale", "Glen", "Lee",
        "Dean", "Drew", "Gene", "Jay", "Ray", "Rob", "Rod", "Sue", "Pat", "Meg", "Deb", "Ed",
        "Earl", "Curt", "Clay", "Homer", "Garret", "Jarred", "Dirk", "Emery", "Brooks",
        "Bonnie", "Molly",
    }  # fmt: skip
    # Listed names that in advice posts are almost never a person: left out.
    never = {
        "An", "In", "My", "So", "See", "Man", "Son", "Many", "Marry", "Brain", "Lean", "Else",
        "Era", "Season", "Song", "Sun", "Moon", "Star", "Lady", "Miss", "Major", "Junior",
        "Numbers", "Manual", "Long", "Young", "Golden", "Royal", "King", "Queen", "Prince",
        "Princess", "Temple", "China", "Tequila", "Margarita", "Genesis", "Conception",
        "Desire", "Chance", "Love", "Liberty", "Trinity", "Karma", "Angel", "Mercy", "Hung",
        "Dung", "Ha", "Hang", "Ma", "Pa", "Mi", "Min", "Nu", "Sang", "Sung", "Soon", "Wan",
        "Wen", "Yen", "Yon", "Yuk", "Chin", "Chi", "Loan", "Lien", "Bong", "Hue", "Ping", "Dot",
        "Tiny", "Precious", "Sparkle", "Sunshine", "Windy", "Stormy", "Carry", "Angle", "Aide",
        "Alpha", "Omega", "Delta", "Echo", "Meta", "Gala", "Aura", "Lore", "Viva", "Nova",
        "Marine", "Forest", "Diamond", "Emerald", "Garnet", "Ivory", "Velvet", "Sterling",
        "Noble", "Earnest", "Honey", "Sunny", "Buddy", "Bud", "Sonny", "Kitty", "Bunny",
        "Fairy", "Pinkie", "Dimple", "Pasty", "Baby", "Christian", "Cherish", "Glory",
        "Harmony", "Melody", "Destiny", "Spring", "Freeman", "Chastity", "Charity", "Patience",
        "Prudence", "Caprice", "Sari", "Tam", "Shin", "Sol", "Coy", "Lacy", "Gay",
        "Blanch", "Angelic", "Celesta", "Maxima", "Novella", "Julienne", "Romaine", "Rosette",
        "Birdie", "Marvel", "Christen", "Rocky", "Candy", "Brandy", "Misty", "Dusty", "Rusty",
        "Sandy", "Rich", "Chuck", "Buck", "Tad", "Shad", "Reed", "Heath", "Lane", "Page",
        "Ward", "Walker", "Porter", "Foster", "Garland", "Newton", "Crystal",
        "Amber", "Ruby", "Jade", "Opal", "Pearl", "Coral", "Jewel", "Raven", "Fawn", "Fern",
        "Maple", "Willow", "Berry", "Cherry", "Olive", "Basil", "Sage", "Ginger", "Pansy",
        "Iris", "Daisy", "Lily", "Ivy", "Holly", "Hazel", "Violet", "Scarlet", "Summer",
        "Winter", "Autumn", "Dawn", "Eve", "Sky", "Bell", "Belle", "Bee", "Kit", "Art",
        "Jack", "Frank", "Grant", "Chase", "Hunter", "Mason", "Piper", "Tanner", "Hope",
        "Grace", "Joy", "Faith", "Rose", "Mark", "Bill", "Will", "May", "June", "April",
        "August", "Guy", "Don", "Lance", "Cliff", "Victoria", "Valentine",
    }  # fmt: skip
    # Words that stay names with context (taken out of `never` again: they are real names).
    contextual = {
        "Rose", "Mark", "Bill", "Will", "May", "June", "April", "August", "Hope", "Grace",
        "Joy", "Faith", "Jack", "Frank", "Grant", "Chase", "Hunter", "Mason", "Guy", "Don",
        "Lance", "Cliff", "Summer", "Autumn", "Dawn", "Eve", "Amber", "Ruby", "Jade", "Crystal",
        "Holly", "Ivy", "Lily", "Daisy", "Hazel", "Violet", "Olive", "Ginger", "Sandy",
        "Candy", "Piper", "Tanner", "Art", "Kit", "Misty", "Rocky", "Reed", "Sage", "Willow",
        "Iris", "Pearl", "Victoria", "Christian", "Dusty", "Rusty", "Brandy", "Heath", "Lane",
    }  # fmt: skip
    # Places and brands among the names: a name only with context, like the words.
    places = {
        "Jordan", "Georgia", "Virginia", "Carolina", "Florida", "Austin", "Dallas", "Houston",
        "Phoenix", "Chelsea", "Brooklyn", "Madison", "Florence", "Paris", "Sydney", "Denver",
        "Orlando", "Tyler", "Charlotte", "Savannah", "Aurora", "Lincoln", "Washington",
        "Kent", "Devon", "Cameron", "Beverly", "Regina", "Alberta", "Victoria", "Adelaide",
        "Memphis", "Columbus", "Jackson", "Mercedes", "Lexus", "Porsche", "Bentley", "Dell",
        "Wendy", "Denny", "Kroger", "Tesla", "Alexa", "Siri", "Cortana", "Trinity",
        "Santa", "Christmas", "Easter", "Rosa", "Vegas", "Maine", "Nevada", "Dakota", "Berlin",
        "Israel", "Ireland", "India", "Asia", "Africa", "America", "Jesus", "Allah", "Mohammed",
        "Muhammad", "Buddha", "Apple", "Verizon", "Lowe", "Fargo", "Wells", "Carmen",
        "Marshall", "Harvard", "Stanford", "Yale", "Princeton", "Duke", "Rutgers", "Emory",
        "Cornell", "Brown", "Clemson", "France", "Chad", "Kenya", "Lebanon", "Malta", "Cuba",
        "Peru", "China", "Chile", "Ohio", "Indiana", "Louisiana",
        "Montana", "Arizona", "Tennessee", "Kentucky", "Missouri", "Minnesota", "Nebraska",
        "Alabama", "Delaware", "Oregon", "Vermont", "Wyoming", "Utah", "Idaho", "Iowa",
        "Texas", "Augusta", "Helena", "Raleigh", "Eugene", "Irvine", "Sherman", "Stanley",
        "Shelby", "Kendall", "Marion", "Chester", "Clinton", "Carson",
        "Hudson", "Quincy", "Troy", "Salem", "Milan", "Sienna", "Venice", "Vienna", "Geneva",
        "Lorraine", "Cleveland", "Reno", "Tulsa", "Camden", "Lafayette",
    }  # fmt: skip
    places = (places | {"Chase", "Wendy", "Frank", "Jan", "Taylor"}) & (first | first_words)
    plain = (first | common) - never - places
    words = ((first_words - common) | places | contextual) - (never - contextual)
    return _Lists(
        frozenset(plain),
        frozenset(words),
        frozenset(last),
        frozenset(last_words),
        frozenset((_STRICT_WORDS | places) & words),
    )


_RELATIONS = (
    r"friends?|bff|bf|gf|boyfriend|girlfriend|husband|hubby|wife|fianc[eé]e?|partner|spouse|"
    r"ex|exes|brother|sister|bro|sis|siblings?|mom|mum|mother|dad|father|parents|sons?|"
    r"daughters?|kids?|child|baby|cousins?|aunt|auntie|uncle|niece|nephew|grandma|grandpa|"
    r"grandmother|grandfather|granddaughter|grandson|boss|manager|supervisor|coworkers?|"
    r"co-workers?|colleagues?|roommates?|roomie|flatmate|housemate|neighbou?rs?|landlord|"
    r"landlady|teacher|professor|therapist|doctor|classmates?|crush|date|so|dog|cat|puppy|"
    r"stepmom|stepdad|stepmother|stepfather|stepson|stepdaughter|stepbrother|stepsister|"
    r"mil|fil|sil|bil|in-laws?|buddy|pal|mate|twin|bestie|employee|intern|client|customer|"
    r"tenant|ta|coach|pastor|mentor|lawyer|ex-wife|ex-husband|exbf|exgf|ldr|guy|girl|man|woman"
)
_MODIFIERS = (
    r"(?:(?:best|close|good|old|ex|new|former|older|younger|little|big|baby|twin|step|half|"
    r"oldest|youngest|eldest|middle|\d+\s*(?:yo|y/o|year[- ]old)|\(?\d{1,2}\s*[mfMF]\)?|"
    r"[mfMF]\s*\d{1,2}|future|current|late|dear|lovely|amazing|toxic|narcissistic|"
    r"soon[- ]to[- ]be|long[- ]?time|childhood|high school|college|work|male|female)[- ]?\s*)*"
)
# "my (best) friend Sarah", "our neighbor, Aditi", "a girl named Will", "her name is Rose"
_CUE = re.compile(
    rf"(?:\b(?:my|his|her|our|their|your|the|a|an|this|that)\s+{_MODIFIERS}(?:{_RELATIONS})\b"
    rf"[,:]?\s+[\"“‘'(]?|\b(?:named|called|nicknamed|name\s+is|name's|names\s+are|"
    rf"i\s+am|i'm|this\s+is)\s+|\b(?-i:Mr|Mrs|Ms|Dr|Prof|Miss)\.?\s+)$",
    re.IGNORECASE,
)
# "I told Will about it", "met Rose at", "thanked Grace for": a verb taking a person before
# the word and a connector after it.
_VERB_BEFORE = re.compile(
    r"\b(?:told|tell|tells|asked|ask|asks|texted|text|called|call|met|meet|dated|dating|"
    r"marry|married|invited|hugged|thanked|thank|dm'?d|"
    r"messaged|emailed|kissed|blocked|unblocked|ghosted|forgave|forgive)\s+$",
    re.IGNORECASE,
)
_CONNECT_AFTER = re.compile(
    r"^(?:\s+(?:about|that|for|at|to|and|if|because|again|yesterday|"
    r"today|last|this|when|after|before|back|out|over)\b|[,.!?;:]|\s*$)"
)
_AFTER = re.compile(
    r"^(?:'s\b|’s\b|\s+(?:and\s+(?:I|me|my)\b|said|says|told|tells|asked|asks|texted|texts|"
    r"replied|replies|responded|yelled|screamed|messaged|admitted|explained|insisted|agreed|"
    r"refused|decided|laughed|cried|called|calls|wants|wanted|thinks|thought|is\s+my|was\s+my|"
    r"came|comes|went|goes|got|gets|had|has|does|did|didn't|doesn't|isn't|wasn't|won't|can't|"
    r"hasn't|hadn't|will|would|kept|keeps|started|stopped|"
    r"tried|tries|seems|seemed|looked|looks|left|loves|loved|likes|liked|hates|hated|knows|"
    r"knew|needs|needed|made|makes|gave|gives|took|takes|lives|lived|works|worked|helped|"
    r"brought|showed|found|invited|sent|paid|owes|owed|moved|broke|cheated|blocked|ghosted|"
    r"apologized|apologised|ignored|shared|offered|suggested|promised|mentioned|noticed|"
    r"started|invited|joined|texted|(?:\(\d{1,2}\s*[mfMF]\)|\(\s*[mfMF]\s*\d{1,2}\)|"
    r"\d{1,2}\s*[mfMF]\b)))"
)
# After a month, place or brand only a person's verbs count ("Texas just", "Verizon has" do not).
_AFTER_PERSON = re.compile(
    r"^(?:\s+(?:and\s+(?:I|me)\b|said|says|told|tells|asked|asks|texted|texts|replied|"
    r"yelled|screamed|messaged|admitted|explained|insisted|agreed|refused|laughed|cried|"
    r"(?:\(\d{1,2}\s*[mfMF]\)|\(\s*[mfMF]\s*\d{1,2}\)|\d{1,2}\s*[mfMF]\b)))"
)
_STRICT_WORDS = frozenset(  # months, seasons, virtues: the cue or the verb after, never position
    "May June April August Summer Autumn Winter Spring Hope Faith Grace Joy Will Christian "
    "Victoria".split()
)
_DETERMINERS = frozenset(
    "the a an this that these those his her their our your its my any some every each no "
    "last next early late mid in on by during until till since of for from before after "
    "around through".split()
)
_NOT_NAMES = frozenset(  # capitalised after a relation cue, but not a name
    "I I'm I've I'd I'll Im Ive God Mom Mum Dad Grandma Grandpa Nana Papa Mama Monday Tuesday "
    "Wednesday Thursday Friday Saturday Sunday January February March July September October "
    "November December Christmas Thanksgiving Easter Reddit Facebook Instagram Snapchat Tinder "
    "Bumble Hinge Google Uber Amazon Walmart Target Starbucks Netflix Discord Twitter TikTok "
    "American British English Indian Chinese Mexican Canadian Asian African European Black "
    "White Latino Latina Hispanic Muslim Christian Jewish Catholic Irish Italian German French "
    "Korean Japanese Filipino Russian Polish Spanish Brazilian Australian The A An And But So "
    "Or If When What Who Why How Edit Update TL TLDR NTA YTA ESH NAH INFO AITA WIBTA Also Then "
    "Now Today Yesterday Tomorrow Last Next Yes No Ok Okay Hi Hey Hello Thanks Please Sorry "
    "Well Oh Lol Omg Idk Tbh Imo Btw Jr Sr Mr Mrs Ms Dr Sir Madam Bro Dude Man Guys Everyone "
    "Nobody Somebody Someone Anyone He She They We You It This That There Here His Her Their "
    "Our My Your Its Is Was Has Had Who Right Wrong Perfect".split()
)
_WORD = re.compile(r"(?<![\w'’@/#-])[A-Z][a-z]+(?:-[A-Z][a-z]+)?(?!\w|['’][a-rt-z])")
_SURNAME = re.compile(
    r"^\s(?:(?:Mc|Mac|O['’])[A-Z][a-z]+|[A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b(?![@'’]\w)"
)
_ORG_AFTER = re.compile(
    r"^\s+(?:University|College|School|County|Street|St\b|Avenue|Ave\b|Road|Rd\b|Hospital|"
    r"Bank|Airlines?|Hotel|Park|River|Lake|Mountain|Beach|City|State|Center|Centre|Mall|"
    r"Institute|Church|Inc|LLC|Ltd|Co\b|Corp|Foundation|Airport|Station|Square|Island|"
    r"Valley|Bay|Creek|Heights|Hall|Stadium|Theater|Theatre|Museum|Library|Times|Post|Hortons)\b"
)
_ORG_BEFORE = re.compile(
    r"(?:\b(?:St|Saint|Mount|Mt|Lake|Fort|Port|Cape|Lady|Sir|New|San|Santa)\.?\s+)$"
)


def _sentence_start(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j] in " \t*_>\"'“‘([":
        j -= 1
    return j < 0 or text[j] in ".!?:;\n\r•-–—)]" or text[j].isdigit()


def _title_case(text: str, i: int) -> bool:
    """Is the line around i Title Case (a post title, a heading), where capitals say nothing?"""
    start = text.rfind("\n", 0, i) + 1
    end = text.find("\n", i)
    line = text[start : end if end >= 0 else len(text)]
    lists = _lists()
    words = [
        w
        for w in re.findall(r"[A-Za-z]{4,}", line)[1:]
        if w not in lists.first and w not in lists.last
    ]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.75 * len(words)


# "permit in Virginia and I", "moved to Jordan": a place, whatever follows.
_PLACE_BEFORE = r"\b(?:in|to|from|at|near|around|across|visit|visiting|outside|of|into|through)\s+$"
# "Guy 5", "Jan 6", "May 2019": a label or a date, not a person (an age like "Sarah 25F" is).
_NUMBERED = re.compile(r"^\s+\d+(?![\dmfMF]|\s*[mfMF]\b)")
# At a sentence start, a known name followed by one of these is the word ("Will you", "May I",
# "Hope this helps", "Mark my words"), even in a text where it is also a person.
_WORD_USE_AFTER = re.compile(
    r"^\s+(?:I|you|we|he|she|they|it|this|that|these|the|a|an|so|everyone|all|your|my|our)\b"
)


def _names(text: str) -> list[Span]:
    spans = _first_pass(text)
    # A word taken as a name once (by its context) is that person wherever it is capitalised in
    # the same text: "our sister “Grace”" makes "Grace wins." and "the Grace I knew" names.
    known = {text[s.start : s.end].split()[0] for s in spans}
    known -= _lists().first  # plain names are found everywhere already
    if not known:
        return spans
    taken = {s.start for s in spans}
    for m in _WORD.finditer(text):
        word, start = m.group(), m.start()
        if word not in known or start in taken or _title_case(text, start):
            continue
        after = text[m.end() : m.end() + 40]
        if _sentence_start(text, start) and _WORD_USE_AFTER.match(after):
            continue
        if _ORG_BEFORE.search(text[max(0, start - 20) : start]) or _ORG_AFTER.match(after):
            continue
        if _NUMBERED.match(after):
            continue
        if word in _lists().strict and re.search(
            _PLACE_BEFORE, text[max(0, start - 20) : start], re.IGNORECASE
        ):
            continue
        spans.append(Span(start, m.end(), "NAME"))
    return sorted(spans, key=lambda sp: sp.start)


def _first_pass(text: str) -> list[Span]:
    lists = _lists()
    spans: list[Span] = []
    for m in _WORD.finditer(text):
        word, start, end = m.group(), m.start(), m.end()
        first = word.split("-")[0]
        before, after = text[max(0, start - 80) : start], text[end : end + 60]
        relation = bool(_CUE.search(before))
        cue = relation or bool(_VERB_BEFORE.search(before) and _CONNECT_AFTER.match(after))
        verb = bool(_AFTER.match(after))
        if _ORG_BEFORE.search(before) or _ORG_AFTER.match(after) or _NUMBERED.match(after):
            continue
        article = re.search(r"\b(?:the|a|an)\s+$", before, re.IGNORECASE)
        if first in lists.first and len(first) > 2:
            ok = not article or cue  # "the Harley" is a motorbike, "the Macy's card" a shop
        elif first in lists.first_words or first in lists.first:
            if first in lists.strict:
                place = re.search(_PLACE_BEFORE, before, re.IGNORECASE)
                person = relation or (not place and (cue or bool(_AFTER_PERSON.match(after))))
                ok = person and not _title_case(text, start)
            elif _sentence_start(text, start):
                ok = cue or verb
            else:
                prev = re.search(r"([A-Za-z]+)\W*$", before)
                ok = (
                    cue
                    or verb
                    or not (
                        _title_case(text, start)
                        or (prev is not None and prev.group(1).lower() in _DETERMINERS)
                        or (prev is not None and prev.group(1)[0].isupper() and not cue)
                    )
                )
        else:
            ok = relation and word not in _NOT_NAMES and not _title_case(text, start)
        if not ok or word in _NOT_NAMES:
            continue
        # A following surname joins the name ("Sarah Johnson"), also in Title Case if it is no
        # English word.
        if s := _SURNAME.match(after):
            surname = s.group().strip()
            if (surname in lists.last and surname not in _NOT_NAMES) or (
                surname in lists.last_words
                and surname not in _NOT_NAMES
                and surname not in lists.strict
                and not _title_case(text, start)
            ):
                end += s.end()
        spans.append(Span(start, end, "NAME"))
    return spans


_RECOGNIZERS = {
    "EMAIL": _emails,
    "URL": _urls,
    "USER": _users,
    "PHONE": _phones,
    "NAME": _names,
}


def _active(settings: PIISettings | None) -> tuple[Kind, ...]:
    s = settings or PIISettings()
    if not s.enabled:
        return ()
    return tuple(k for k in KINDS if k in s.kinds and (k != "NAME" or s.names))


def find(text: str, settings: PIISettings | None = None) -> list[Span]:
    """Non-overlapping spans of personal information, in text order. Where two recognizers
    claim overlapping text, the earlier start wins, then the longer span, then the kind
    listed first in `KINDS` (an email's domain is not a separate link)."""
    return list(_find(text, _active(settings))) if text else []


# A post is scrubbed for each request made about it (every judge, the prefetch and the vote):
# the last thousand answers are kept (at most ~20 MB: prompts hold posts under 20,000 characters).
@lru_cache(maxsize=1024)
def _find(text: str, kinds: tuple[Kind, ...]) -> tuple[Span, ...]:
    found: list[Span] = []
    for kind in kinds:
        found += _RECOGNIZERS[kind](text)
    found.sort(key=lambda sp: (sp.start, -(sp.end - sp.start), KINDS.index(sp.kind)))
    out: list[Span] = []
    for sp in found:
        if sp.end > sp.start and (not out or sp.start >= out[-1].end):
            out.append(sp)
    return tuple(out)


def scrub(text: str, settings: PIISettings | None = None) -> str:
    """The text with each span of personal information replaced by its placeholder."""
    spans = find(text, settings)
    if not spans:
        return text
    parts, at = [], 0
    for sp in spans:
        parts += [text[at : sp.start], sp.placeholder]
        at = sp.end
    parts.append(text[at:])
    return "".join(parts)


def policy(settings: PIISettings) -> dict[str, object] | None:
    """What the scrubbing of a text depends on besides the text: None when it is off, so a
    prompt fingerprint without scrubbing is the one from before scrubbing existed."""
    kinds = _active(settings)
    return {"pii": PII_VERSION, "kinds": list(kinds)} if kinds else None
