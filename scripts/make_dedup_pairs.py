"""Write `tests/fixtures/dedup_pairs.jsonl`: labelled pairs of advice posts for dedup quality.

Every text is written for this project (no Reddit text). Each base story comes in two versions
per topic (distinct posts by different people on the same topic: the hard negatives), and each
story gets the kinds of copies seen on Reddit: the same body under a new title, light edits
(typos fixed, a sentence reworded, an EDIT line), the same story in another subreddit with an
introduction, an UPDATE post that quotes the original, and, as negatives, an update that only
tells what happened next. Run: `python scripts/make_dedup_pairs.py` (deterministic).
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "dedup_pairs.jsonl"

# topic -> two stories: (subreddit, title, body, [(old, new) light edits], outcome update)
STORIES: dict[str, list[tuple[str, str, str, list[tuple[str, str]], str]]] = {
    "cosign": [
        (
            "personalfinance",
            "Should I co-sign my brother's first lease?",
            "My younger brother (22) just got his first real job and wants to move out of our "
            "parents' place. The landlord wants a co-signer because he has no credit history. "
            "Last time I lent him money it took almost two years to get it back, and my wife "
            "is not thrilled about the idea. We are saving for a down payment ourselves and "
            "if he misses rent it lands on us. On the other hand he has been doing really "
            "well lately, he pays his phone bill on time and he is genuinely trying. My "
            "parents think family comes first and I should just do it. I feel guilty saying "
            "no but I also don't want this to blow up our savings or our relationship. "
            "Should I co-sign or tell him to look for a cheaper place with roommates?",
            [
                ("(22)", "(22M)"),
                ("is not thrilled about the idea", "really isn't happy about it"),
                ("he is genuinely trying", "he's genuinely trying"),
            ],
            "Thanks for all the advice last week. I told him I would not co-sign but offered "
            "to help with the deposit instead. He was upset for a day and then found a place "
            "with two coworkers. We had dinner on Sunday and things are fine between us.",
        ),
        (
            "Advice",
            "Parents want me to co-sign my sister's car loan",
            "My sister is 19 and needs a car to get to her nursing clinicals, which are an "
            "hour away by bus. She found a used Corolla and the dealer says she needs a "
            "co-signer. My parents can't because of their own debt, so they asked me. I am "
            "26, I have good credit and I'm about to apply for a mortgage with my boyfriend. "
            "A car loan on my report could raise our rate. My sister is responsible, she "
            "works weekends at a pharmacy, but her hours are not guaranteed. I love her and "
            "I want her to finish school, but I am scared of being on the hook for eight "
            "thousand dollars right when we are buying a house. Do I co-sign, offer to help "
            "her find a cheaper car she can buy outright, or stay out of it?",
            [
                ("is 19", "(19F) is"),
                ("I am 26", "I'm 26"),
                ("I am scared", "I'm honestly scared"),
            ],
            "Update for anyone who cared: my dad's friend sold her his old Civic for two "
            "thousand dollars and I lent her half of it. No loan, no co-signing. She starts "
            "clinicals next month and already paid me back the first hundred.",
        ),
    ],
    "job_offer": [
        (
            "careerguidance",
            "Stay at a stable job or join a startup that pays more?",
            "I have been at a mid-size insurance company for five years as a data analyst. "
            "The work is boring but stable, my manager is great and I can work from home "
            "three days a week. A startup in fintech offered me a senior role with a 30% "
            "raise and some equity, but they are eighteen months into their funding and "
            "the office is downtown, which would add an hour of commuting each day. My "
            "partner is pregnant with our first child, due in March. Part of me thinks this "
            "is the last chance to take a risk before the baby comes, and part of me thinks "
            "that is exactly why I shouldn't. My current company has good parental leave. "
            "What would you do in my position?",
            [
                ("I have been", "I've been"),
                ("The work is boring but stable", "The work is dull but very stable"),
                ("due in March", "due this March"),
            ],
            "I turned the startup down. They came back with remote Fridays but I asked about "
            "their runway and the answer was vague. My manager found out and put me up for a "
            "promotion, so I got a smaller raise without changing anything.",
        ),
        (
            "jobs",
            "Counter offer from my current employer, take it or leave?",
            "I handed in my notice on Monday after accepting an offer at a competitor. This "
            "morning my boss called me into a meeting and matched the salary, plus offered "
            "to move me onto the team I have wanted to join for two years. I already signed "
            "the new contract but haven't started. Everyone online says never accept a "
            "counter offer because they will see you as disloyal and replace you within a "
            "year. But I genuinely like my coworkers and the new company's reviews are mixed. "
            "I feel like I would be burning a bridge with the new company if I back out now. "
            "Has anyone accepted a counter offer and been happy? Should I stay or go?",
            [
                ("on Monday", "last Monday"),
                ("I feel like I would be", "I'd be"),
            ],
            "I went to the new company. The first two weeks have been chaotic but the team is "
            "friendly. My old boss wished me luck and said the door is open.",
        ),
    ],
    "wedding": [
        (
            "relationship_advice",
            "Do I invite my dad to my wedding after he skipped my graduation?",
            "My parents divorced when I was twelve and my dad remarried soon after. He was "
            "not around much. He missed my high school and my college graduations, both "
            "times saying something came up with his new family. I'm getting married in "
            "October and my fiance thinks I should invite him because I might regret it "
            "later. My mom says she will be uncomfortable but she will respect whatever I "
            "decide. I don't hate him, I just don't trust him to show up, and I don't want "
            "to spend my wedding day watching the door. Do I send the invitation anyway, "
            "or is it fair to leave him out this time?",
            [
                ("He was not around much", "He wasn't around much after that"),
                ("fiance", "fiancé"),
                ("watching the door", "looking at the door"),
            ],
            "We talked on the phone for the first time in a year. I did not invite him to the "
            "wedding but we agreed to meet for lunch before it. It went better than I thought.",
        ),
        (
            "weddingplanning",
            "Best friend wants to bring her new boyfriend, we have no room",
            "Our venue caps us at 80 people and we are already at 79. My best friend since "
            "kindergarten started dating someone three weeks ago and asked if she can bring "
            "him. None of our guests got a plus one unless they were married or engaged, and "
            "I had to leave out two of my cousins. If I say yes, other friends will be hurt. "
            "If I say no, she says she won't know anyone at the table and might not come. "
            "My fiance says it's my call since she is my friend. Should I make an exception "
            "for her or hold the line?",
            [
                ("since kindergarten", "since we were in kindergarten"),
                ("My fiance says", "My fiancé says"),
            ],
            "She came alone and sat with my college roommates, and they got along so well "
            "that they have a group chat now. Holding the line was the right call for us.",
        ),
    ],
    "roommate": [
        (
            "Advice",
            "Roommate keeps eating my food, confront or move out?",
            "I share a two bedroom apartment with a guy I found online. We get along fine "
            "except that for months my groceries have been disappearing: yogurt, leftovers, "
            "once a whole rotisserie chicken. I labelled things, I asked nicely twice, and "
            "he always says it must have been his girlfriend. I can't afford to replace "
            "forty dollars of food every week. Our lease ends in four months. I could buy a "
            "mini fridge with a lock for my room, confront him again and ask him to pay me "
            "back, or start looking for a new place now and eat the cost of breaking the "
            "lease. What would you do?",
            [
                ("a guy I found online", "a guy I met through a listing"),
                ("I labelled things", "I labeled everything"),
                ("What would you do?", "What would you guys do?"),
            ],
            "I bought the mini fridge. He noticed and apologized, turns out his girlfriend "
            "really was eating it. She chipped in for groceries and we're fine until the "
            "lease ends.",
        ),
        (
            "roommates",
            "My roommate's partner basically lives here now",
            "When I moved in with my roommate last year it was just the two of us. Since "
            "January her boyfriend has been here five or six nights a week. He showers in "
            "the morning when I need the bathroom, he uses the kitchen, and he doesn't pay "
            "anything towards rent or utilities. Our electricity bill went up a lot. She is "
            "a good friend and I don't want to make things awkward, but I feel like I am "
            "paying for a third roommate. Should I ask them to split utilities three ways, "
            "set a limit on nights, or just let it go until the lease is up?",
            [
                ("last year", "in August"),
                ("went up a lot", "went up by almost a third"),
            ],
            "We talked and he now pays a third of utilities. It was awkward for about ten "
            "minutes and then it was fine. Should have asked months ago.",
        ),
    ],
    "elderly_parent": [
        (
            "AgingParents",
            "Move my mom in with us or find assisted living?",
            "My mom is 78 and had a fall in her kitchen last month. She is recovering but her "
            "doctor says she should not live alone anymore. My brother lives across the "
            "country and says he can help pay for a facility but can't do anything hands on. "
            "We have a spare room on the ground floor and my husband says he is okay with it, "
            "but we both work full time and have two teenagers. Mom says she doesn't want to "
            "be a burden but she cried when we toured a facility. The good facilities near us "
            "cost about six thousand a month. I keep going back and forth. Should we take her "
            "in or choose assisted living?",
            [
                ("last month", "a few weeks ago"),
                ("I keep going back and forth", "I keep changing my mind every day"),
            ],
            "Mom moved into the spare room two weeks ago. We hired a part time aide for the "
            "afternoons. The kids have been great with her and she is already bossing my "
            "husband around about the garden.",
        ),
        (
            "Advice",
            "Dad refuses to stop driving, do I report him?",
            "My father is 84 and has had two small accidents this year, one in a parking lot "
            "and one where he scraped a parked car and didn't notice. He lives alone in a "
            "rural town and says losing the car would mean losing his independence, and "
            "honestly he's right, the nearest grocery store is twenty minutes away. His "
            "doctor won't say anything unless we push. I could report him to the licensing "
            "office for a retest, take the keys and set up grocery delivery, or wait and "
            "hope nothing serious happens. I'm scared he will hurt himself or a kid. What "
            "is the right thing to do here?",
            [
                ("is 84", "(84) is"),
                ("I'm scared", "I am terrified"),
            ],
            "He failed the retest and is furious with me. We set up grocery delivery and a "
            "neighbour drives him to church. He's slowly coming around.",
        ),
    ],
    "school": [
        (
            "college",
            "Drop out of my engineering program to become an electrician?",
            "I'm in my second year of mechanical engineering and I am miserable. My grades "
            "are fine, mostly Bs, but I hate sitting in lectures and I love working with my "
            "hands. My uncle is a master electrician and offered to sponsor me for an "
            "apprenticeship starting in the fall. I would earn money right away instead of "
            "taking on another forty thousand in loans. My parents immigrated so I could go "
            "to university and my dad would be crushed. I am afraid I will regret leaving, "
            "but I'm also afraid of spending my twenties doing something I don't like. Should "
            "I finish the degree or take the apprenticeship?",
            [
                ("mostly Bs", "mostly B's"),
                ("would be crushed", "will be crushed"),
            ],
            "I took a leave of absence instead of dropping out and started the apprenticeship. "
            "My dad didn't talk to me for a week, then asked me to fix his garage lights.",
        ),
        (
            "ApplyingToCollege",
            "Full ride at a state school or loans for my dream school?",
            "I got into my dream school with a financial aid package that still leaves about "
            "twenty five thousand a year in loans. I also got a full scholarship to my state "
            "flagship, which has a good program for what I want to study, biology. My parents "
            "can't help much. My counselor says the name on the diploma matters less than "
            "people think, but the dream school has research opportunities I really want for "
            "med school. Graduating with a hundred thousand in debt before medical school "
            "scares me. Which one would you choose?",
            [
                ("a full scholarship", "a full ride"),
                ("scares me", "scares me a lot"),
            ],
            "I committed to the state school. I emailed a professor there about research and "
            "she invited me to join her lab in my first semester.",
        ),
    ],
    "friendship": [
        (
            "Advice",
            "Tell my friend her husband is on a dating app?",
            "Yesterday a coworker showed me profiles on a dating app as a joke and one of "
            "them was my close friend's husband, with a recent photo from their vacation. "
            "His profile says he is separated, but my friend talked about planning their "
            "anniversary trip just last week. I'm not that close to him and I don't know what "
            "is going on in their marriage. If I tell her, I might blow up her life over "
            "something with an explanation. If I don't, and she finds out I knew, I lose my "
            "friend. I could also talk to him first. What should I do?",
            [
                ("Yesterday", "Two days ago"),
                ("I'm not that close to him", "I am not close to him at all"),
            ],
            "I told her. She already knew, they have been in counselling and he made the "
            "profile during a bad week and forgot it. She thanked me for telling her.",
        ),
        (
            "relationship_advice",
            "Friend keeps cancelling last minute, end the friendship?",
            "I've been friends with someone since college, about eight years. In the last year "
            "she has cancelled on me the day of plans at least ten times, including my "
            "birthday dinner which I had booked for six people. She always has a reason, work "
            "or being tired, and she apologizes, but then it happens again. I know she has a "
            "demanding job and she went through a breakup. I'm tired of feeling like the only "
            "one trying. Should I talk to her about it, quietly stop making plans, or end "
            "the friendship?",
            [
                ("about eight years", "so about eight years now"),
                ("I'm tired of feeling", "I am so tired of feeling"),
            ],
            "We talked. She has been dealing with depression and didn't want to say it. We "
            "now do low key things like walks, and she hasn't cancelled since.",
        ),
    ],
    "money": [
        (
            "personalfinance",
            "Pay off student loans or invest my bonus?",
            "I got a twelve thousand dollar bonus this year after taxes. I have about thirty "
            "thousand left on student loans at 5.8% interest and nothing invested besides my "
            "401(k) match. My emergency fund covers four months. My girlfriend says to kill "
            "the loans as fast as possible because debt is stressful, my dad says to put it "
            "all in an index fund because the market returns more over time. I'm 29 and want "
            "to buy a place in the next five years. Part of me just wants the loans gone. "
            "What would you do with the bonus?",
            [
                ("I got", "Just got"),
                ("My emergency fund covers four months", "My emergency fund is four months"),
            ],
            "Split it: eight thousand to the loans and four into a Roth IRA. Seeing the "
            "balance drop felt great. Thanks for the spreadsheets, everyone.",
        ),
        (
            "personalfinance",
            "Lend my best friend money for his business?",
            "My best friend of fifteen years is opening a food truck and asked me to lend him "
            "ten thousand dollars. He would pay me back over two years with some interest. I "
            "have the money, it is most of my savings outside retirement. He has a good "
            "business plan and he has worked in restaurants for a decade, but most new food "
            "businesses fail. My partner says never lend money you can't afford to lose to a "
            "friend. I don't want to lose the friendship either way. Should I lend it, offer "
            "a smaller amount, or say no?",
            [
                ("of fifteen years", "of 15 years"),
                ("for a decade", "for about ten years"),
            ],
            "I lent him three thousand as a gift rather than a loan and told him that was my "
            "limit. The truck opened in May and the tacos are genuinely great.",
        ),
    ],
}

OTHER_SUBS = {
    "personalfinance": "Advice",
    "Advice": "relationship_advice",
    "careerguidance": "jobs",
    "jobs": "careerguidance",
    "relationship_advice": "Advice",
    "weddingplanning": "Weddings",
    "roommates": "Advice",
    "AgingParents": "CaregiverSupport",
    "college": "careerguidance",
    "ApplyingToCollege": "college",
}

# A reworded retelling by the same author (label: duplicate; the hardest kind to catch).
RETOLD = {
    ("cosign", 0): (
        "Brother needs a co-signer and I'm torn",
        "My little brother is 22 and landed his first proper job, so he wants his own "
        "apartment. Because he has zero credit the landlord is asking for a co-signer, and "
        "he asked me. The last loan I gave him took two years to come back. We're saving "
        "for our own house and my wife is against it; if he can't pay, we pay. He has been "
        "responsible recently though. My parents say family first. Co-sign, or tell him to "
        "find a cheaper place with roommates?",
    ),
    ("roommate", 0): (
        "Food keeps vanishing from our fridge",
        "For months my food has been going missing in the apartment I share with a "
        "roommate I found online: yogurt, leftovers, a rotisserie chicken once. Labels and "
        "two polite talks didn't help; he blames his girlfriend. It's costing me about forty "
        "bucks a week and we still have four months on the lease. Lockable mini fridge, "
        "another confrontation, or move out early and pay to break the lease?",
    ),
}


# The same dilemma told by someone else (label: distinct; the hardest negatives).
LOOKALIKES = {
    ("cosign", 0): (
        "Advice",
        "Co-sign an apartment for my brother?",
        "My brother is 23 and moving out for the first time. He has a steady job at a "
        "warehouse but no credit score, so the apartment complex wants a co-signer and my "
        "parents said no. He has asked me. I'm single, I rent, and I'm not sure what happens "
        "to my own credit if he stops paying. He has always been good about money as far as I "
        "know, and I would like to help him get on his feet. Is co-signing a lease as risky "
        "as people say, or should I help him?",
    ),
    ("job_offer", 0): (
        "careerguidance",
        "Leave a secure government job for a startup offer?",
        "I work for the state as an analyst, with a pension, good benefits and full remote "
        "work. A startup I interviewed with for fun offered me 40% more money and stock "
        "options. They just raised their Series A. My wife works part time and we have a "
        "toddler, so the health insurance matters. I'm bored at my job and worry I'll stay "
        "there forever if I don't leave now. Is it crazy to give up the pension for a "
        "startup, or should I take the chance while I'm young?",
    ),
    ("roommate", 0): (
        "roommates",
        "Roommate eats my groceries and denies it",
        "I live with two roommates in a three bedroom. Someone keeps eating my food, mostly "
        "snacks and the meals I prep for the week. One roommate admitted it once and said it "
        "wouldn't happen again, but it still does. I'm a student on a tight budget and can't "
        "keep buying everything twice. Should I put a lock on a cabinet, bring it up at a "
        "house meeting, or talk to him one on one?",
    ),
    ("elderly_parent", 0): (
        "CaregiverSupport",
        "Mother-in-law can't live alone anymore, who takes her in?",
        "My mother-in-law is 81 and after a small stroke her doctor says she needs someone "
        "around. My husband wants her to move in with us. We have a small house and two "
        "young kids, and I already do most of the caregiving in our family. His sister has a "
        "bigger house but says she can't. Assisted living near us costs more than we can "
        "pay. I love her but I'm afraid I'll burn out. Should I agree to have her move in?",
    ),
    ("money", 0): (
        "personalfinance",
        "Bonus: pay down loans or invest?",
        "I'm 31 and just received an eight thousand dollar bonus. I owe about twenty two "
        "thousand on student loans at around 6% and I have a small emergency fund and my "
        "employer match. My brother says invest everything because I'm young, my mom says "
        "debt is a weight and I should pay it off. I'd like to buy a home eventually. What "
        "is the smarter move with the bonus?",
    ),
}


def _edit(body: str, edits: list[tuple[str, str]]) -> str:
    for old, new in edits:
        assert old in body, old
        body = body.replace(old, new, 1)
    return body


def pairs() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []

    def add(kind: str, dup: bool, a: tuple[str, str, str], b: tuple[str, str, str]) -> None:
        out.append(
            {
                "id": f"p{len(out) + 1:03d}",
                "kind": kind,
                "duplicate": dup,
                "a": {"subreddit": a[0], "title": a[1], "body": a[2]},
                "b": {"subreddit": b[0], "title": b[1], "body": b[2]},
            }
        )

    for topic, stories in STORIES.items():
        for n, (sub, title, body, edits, outcome) in enumerate(stories):
            orig = (sub, title, body)
            add("retitled", True, orig, (sub, f"Need advice: {title.lower()}", body))
            edited = _edit(body, edits)
            add("light_edits", True, orig, (sub, title, edited))
            add(
                "edit_line",
                True,
                orig,
                (sub, title, body + "\n\nEDIT: some more context, I already talked to them once."),
            )
            other = OTHER_SUBS.get(sub, "Advice")
            add(
                "other_subreddit",
                True,
                orig,
                (
                    other,
                    title.replace("?", "").strip() + " (x-post)",
                    f"Posted this in r/{sub} but someone said to ask here too.\n\n{edited}",
                ),
            )
            add(
                "update_quoting_original",
                True,
                orig,
                (
                    sub,
                    f"UPDATE: {title}",
                    f"Update at the bottom. Original post:\n\n{body}\n\nUPDATE: {outcome}",
                ),
            )
            add(
                "update_outcome_only",
                False,
                orig,
                (sub, f"UPDATE: {title}", f"{outcome} Original post is on my profile."),
            )
            if (topic, n) in LOOKALIKES:
                add("same_dilemma_other_author", False, orig, LOOKALIKES[(topic, n)])
            if (topic, n) in RETOLD:
                t, b = RETOLD[(topic, n)]
                add("retold_by_author", True, orig, (sub, t, b))
        (s1, t1, b1, _, _), (s2, t2, b2, _, _) = stories
        add("same_topic", False, (s1, t1, b1), (s2, t2, b2))
    flat = [(topic, story) for topic, stories in STORIES.items() for story in stories]
    for i, (topic_a, (s1, t1, b1, _, _)) in enumerate(flat):  # every other pair: distinct
        for topic_b, (s2, t2, b2, _, _) in flat[i + 1 :]:
            if topic_a != topic_b:
                add("other_topic", False, (s1, t1, b1), (s2, t2, b2))
    return out


def main() -> None:
    rows = pairs()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    dups = sum(bool(r["duplicate"]) for r in rows)
    print(f"wrote {OUT}: {len(rows)} pairs, {dups} duplicates, {len(rows) - dups} distinct")


if __name__ == "__main__":
    main()
