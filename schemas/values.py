"""The ten basic values of Schwartz's theory, in the order the study lists them."""

from enum import StrEnum


class SchwartzValue(StrEnum):
    SELF_DIRECTION = "Self-Direction"
    STIMULATION = "Stimulation"
    HEDONISM = "Hedonism"
    ACHIEVEMENT = "Achievement"
    POWER = "Power"
    SECURITY = "Security"
    CONFORMITY = "Conformity"
    TRADITION = "Tradition"
    BENEVOLENCE = "Benevolence"
    UNIVERSALISM = "Universalism"


# Schwartz (2012), "An Overview of the Schwartz Theory of Basic Values": the defining goal
# of each value. Used in prompts and by the offline embedding annotator.
VALUE_DESCRIPTIONS: dict[SchwartzValue, str] = {
    SchwartzValue.SELF_DIRECTION: (
        "Independent thought and action: choosing one's own goals, creating, exploring, "
        "freedom and independence."
    ),
    SchwartzValue.STIMULATION: "Excitement, novelty, adventure and challenge in life.",
    SchwartzValue.HEDONISM: "Pleasure and sensuous gratification for oneself; enjoying life.",
    SchwartzValue.ACHIEVEMENT: (
        "Personal success through demonstrating competence according to social standards; "
        "ambition and career success."
    ),
    SchwartzValue.POWER: (
        "Social status and prestige, control or dominance over people and resources, wealth."
    ),
    SchwartzValue.SECURITY: (
        "Safety, harmony and stability of society, of relationships and of self; financial "
        "safety and avoiding risk."
    ),
    SchwartzValue.CONFORMITY: (
        "Restraint of actions likely to upset or harm others and violate social expectations "
        "or norms; obedience and politeness."
    ),
    SchwartzValue.TRADITION: (
        "Respect, commitment and acceptance of the customs and ideas that one's culture, "
        "family or religion provides."
    ),
    SchwartzValue.BENEVOLENCE: (
        "Preserving and enhancing the welfare of those with whom one is in frequent personal "
        "contact: family and friends; helpfulness, loyalty, forgiveness."
    ),
    SchwartzValue.UNIVERSALISM: (
        "Understanding, appreciation, tolerance and protection of the welfare of all people "
        "and of nature; fairness and justice."
    ),
}


# First-person portraits per value in the style of the Portrait Values Questionnaire (written for
# this project, not the PVQ's items): what a person who holds the value finds important, and
# what they typically do. Twelve per value, the i-th of each value written as a set, so the
# offline annotator can train on them as ten candidates of one pseudo-scenario as well as
# alone; with the description they also form each value's prototype.
VALUE_EXEMPLARS: dict[SchwartzValue, tuple[str, ...]] = {
    SchwartzValue.SELF_DIRECTION: (
        "It is important to me to make my own decisions about what I do.",
        "I like to think up my own ideas and do things in my own original way.",
        "I want to be free to plan and choose my activities for myself.",
        "I would rather work things out on my own than be told what to do.",
        "I decide for myself and follow my own path, whatever others think.",
        "Being independent and relying on my own judgment matters a lot to me.",
        "I want to explore what really interests me and choose my own goals.",
        "I set my own terms instead of fitting into someone else's plan.",
        "I keep the freedom to change my mind and shape my life the way I want.",
        "I make up my own mind after looking into it myself.",
        "I want my work and my choices to reflect who I am, not what is expected.",
        "I would choose the option that leaves me in charge of my own time and direction.",
    ),
    SchwartzValue.STIMULATION: (
        "I look for adventures and like to take risks; I want an exciting life.",
        "I like surprises and am always looking for new things to do.",
        "It is important to me to do lots of different things in life.",
        "I get bored by routine and go for the option that shakes things up.",
        "I would try something I have never done before just to see what it is like.",
        "A bold challenge with an uncertain outcome gives me energy.",
        "I want to travel, meet new people and experience unfamiliar places.",
        "I jump at a spontaneous plan rather than the predictable one.",
        "I would take the daring path because it would be a thrill.",
        "Variety and novelty keep me going; I hate doing the same thing twice.",
        "I would pick the fast-changing, unpredictable job over the quiet one.",
        "I'd treat this as an adventure and see where it leads.",
    ),
    SchwartzValue.HEDONISM: (
        "Having a good time is important to me; I like to spoil myself.",
        "I seek every chance I can to have fun and do things that give me pleasure.",
        "Enjoying life's pleasures matters a lot to me.",
        "I choose what would feel best and let me relax and enjoy myself.",
        "I would treat myself to good food, comfort and a lazy weekend.",
        "I don't want to spend my days doing things I don't enjoy.",
        "I pick the fun option and make the most of the moment.",
        "My own comfort and enjoyment come first in this decision.",
        "I would rather enjoy my free time than take on something stressful.",
        "I like indulging in the things that make me feel good.",
        "I'd skip the hassle and spend the time doing what I love.",
        "Life is short, so I would choose whatever makes it more enjoyable.",
    ),
    SchwartzValue.ACHIEVEMENT: (
        "Being very successful is important to me; I like to impress people with my abilities.",
        "I want people to admire what I accomplish.",
        "Getting ahead in life and being ambitious matter to me.",
        "I work hard to reach my goals and prove that I am capable.",
        "I choose the option that advances my career and builds my skills.",
        "I set high targets for myself and push until I meet them.",
        "Doing an excellent job and being recognised as competent drive me.",
        "I would take the harder road if it leads to a bigger accomplishment.",
        "I plan carefully, track my progress and deliver results.",
        "I want a record of success that shows what I can do.",
        "I would prepare thoroughly so I perform at my best.",
        "I see this as a chance to excel and reach the next level.",
    ),
    SchwartzValue.POWER: (
        "It is important to me to be rich; I want to have a lot of money and expensive things.",
        "I want to be in charge and tell others what to do.",
        "I want people to do what I say and to respect my authority.",
        "Status and prestige matter to me; I like having influence over others.",
        "I make sure I have the upper hand and the leverage in a negotiation.",
        "I would take control of the decision and set the rules myself.",
        "I choose the option that raises my standing, wealth and influence.",
        "I want to be the one who holds the purse strings and makes the calls.",
        "I use my position to get others to go along with what I want.",
        "I would accept only on terms that give me control over people and resources.",
        "Being at the top of the hierarchy is where I want to be.",
        "I'd make it clear who is in charge here.",
    ),
    SchwartzValue.SECURITY: (
        "It is important to me to live in secure surroundings and avoid anything that might "
        "endanger my safety.",
        "I want a stable, predictable life and I avoid unnecessary risks.",
        "Having a financial safety net and steady income matters a lot to me.",
        "I choose the safe option that protects my health, my job and my savings.",
        "I would keep things as they are rather than gamble on the unknown.",
        "Order and stability in my home and relationships are important to me.",
        "I plan ahead so that nothing catches me off guard.",
        "I would protect myself from trouble and keep everything on solid ground.",
        "I pay off debt and keep an emergency fund before anything else.",
        "A reliable, secure arrangement is worth more to me than a bigger reward.",
        "I'd avoid anything that could put my family's safety at risk.",
        "I want to be sure I am covered if something goes wrong.",
    ),
    SchwartzValue.CONFORMITY: (
        "I believe people should do what they are told and follow rules even when no one is "
        "watching.",
        "It is important to me to behave properly and avoid doing anything people would say "
        "is wrong.",
        "I always try to be polite and not to annoy or upset other people.",
        "I go along with what is expected of me by my boss, my family and society.",
        "I would follow the official policy and the proper procedure.",
        "I avoid making a scene or standing out in a way others disapprove of.",
        "I restrain myself so I do not offend anyone.",
        "I do what people in my position are normally expected to do.",
        "I would defer to the people in authority and not go against their wishes.",
        "I stick to the rules, even when bending them would be easier.",
        "Being seen as well-behaved and respectable matters to me.",
        "I'd keep quiet and comply rather than cause friction.",
    ),
    SchwartzValue.TRADITION: (
        "It is important to me to respect the customs of my family and my culture.",
        "I follow the religious beliefs and practices I grew up with.",
        "I think it is best to do things in traditional ways, as they have always been done.",
        "I honour the rituals and holidays my family has kept for generations.",
        "I would carry on the family business, recipes or heritage passed down to me.",
        "I keep the old ways alive because they connect me to my roots.",
        "I respect my elders and the way things were done before me.",
        "I would follow what my faith and my community have always taught.",
        "Keeping our long-standing family customs matters more to me than new trends.",
        "I accept my place in the traditions of my culture with humility.",
        "I'd do it the way my parents and grandparents always did.",
        "I want to pass our customs on to the next generation.",
    ),
    SchwartzValue.BENEVOLENCE: (
        "It is important to me to help the people around me and care for their wellbeing.",
        "I want to be loyal to my friends and devote myself to the people close to me.",
        "I go out of my way to support my family even when it costs me.",
        "I forgive the people I love and try to keep our relationship strong.",
        "I put my partner's, children's and friends' needs ahead of my own.",
        "I would check in on a friend who is struggling and offer a hand.",
        "Being someone my family and friends can count on matters to me.",
        "I want the people close to me to feel loved and looked after.",
        "I would talk it through gently so no one I care about gets hurt.",
        "I help my coworkers and neighbours when they need it.",
        "I'd make time for the people who depend on me.",
        "I look after those I am close to before thinking of myself.",
    ),
    SchwartzValue.UNIVERSALISM: (
        "I think it is important that every person in the world is treated equally and fairly.",
        "I want everyone to be treated justly, even people I don't know.",
        "It is important to me to listen to people who are different from me and to "
        "understand them.",
        "I strongly believe people should care for nature and protect the environment.",
        "I would choose what is fair to everyone involved, not only to me and mine.",
        "I want to help make society fairer and protect the weak and vulnerable.",
        "I accept people as they are and tolerate views different from my own.",
        "I would support the option that does the most good for the wider community and "
        "the planet.",
        "I speak up against injustice and discrimination wherever I see it.",
        "I would donate or volunteer for a cause that helps strangers in need.",
        "I'd make sure the rules apply equally to everyone, whoever they are.",
        "I think about the impact on society and future generations.",
    ),
}


# What would name a value inside an action meant to enact it: its name and the words derived
# from it that label the value itself (plural, -ist, -istic, -ent forms), plus a few fixed
# synonyms of the label. Ordinary words for what a value pursues (pleasure, safety, custom,
# helping, fairness) are not here: they are how an action enacts its value. Checked only
# against the action's own value, so "I would keep the family tradition" is fine for
# Benevolence and refused for Tradition. Matched as whole words, case-insensitively, a hyphen
# also matching a space or nothing.
VALUE_NAME_TERMS: dict[SchwartzValue, tuple[str, ...]] = {
    SchwartzValue.SELF_DIRECTION: ("self-direction", "self-directed", "self-determination"),
    SchwartzValue.STIMULATION: ("stimulation",),
    SchwartzValue.HEDONISM: ("hedonism", "hedonistic", "hedonist", "pleasure-seeking"),
    SchwartzValue.ACHIEVEMENT: ("achievement", "achievements"),
    SchwartzValue.POWER: ("power", "powers", "power-seeking"),
    SchwartzValue.SECURITY: ("security",),
    SchwartzValue.CONFORMITY: ("conformity", "conformist", "conformism"),
    SchwartzValue.TRADITION: ("tradition", "traditions", "traditionalist"),
    SchwartzValue.BENEVOLENCE: ("benevolence", "benevolent"),
    SchwartzValue.UNIVERSALISM: ("universalism", "universalist"),
}
