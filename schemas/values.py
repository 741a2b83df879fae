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


# Short first-person paraphrases per value, in the spirit of the Portrait Values Questionnaire
# items (written for this project). With the description they form each value's prototype
# for the offline embedding annotator: one sentence alone is too narrow a target.
VALUE_EXEMPLARS: dict[SchwartzValue, tuple[str, ...]] = {
    SchwartzValue.SELF_DIRECTION: (
        "I will decide for myself and follow my own path.",
        "I choose independently, on my own terms, whatever others think.",
        "I explore my own ideas and keep my freedom to choose.",
    ),
    SchwartzValue.STIMULATION: (
        "I go for the exciting, adventurous and new option.",
        "I take the risky challenge because it would be thrilling.",
        "I try something novel instead of the same routine.",
    ),
    SchwartzValue.HEDONISM: (
        "I do what I would enjoy most and treat myself.",
        "I choose the fun, pleasurable option and relax.",
        "I put my own comfort and enjoyment first.",
    ),
    SchwartzValue.ACHIEVEMENT: (
        "I push for the option that advances my career and shows my competence.",
        "I work hard to succeed and be recognised as capable.",
        "I pick what helps me reach my ambitious goals.",
    ),
    SchwartzValue.POWER: (
        "I take control and use my position to get authority over others.",
        "I choose the option that raises my status, wealth and influence.",
        "I make sure I have the upper hand and the leverage.",
    ),
    SchwartzValue.SECURITY: (
        "I choose the safe, stable option and avoid risk.",
        "I protect my savings and keep things predictable.",
        "I keep a safety net and do nothing that endangers my stability.",
    ),
    SchwartzValue.CONFORMITY: (
        "I follow the rules and do what is expected of me.",
        "I avoid upsetting anyone and behave politely and properly.",
        "I go along with what my boss and family expect.",
    ),
    SchwartzValue.TRADITION: (
        "I respect my family's customs and the way things have always been done.",
        "I follow my religion and cultural traditions.",
        "I honour the traditions I grew up with.",
    ),
    SchwartzValue.BENEVOLENCE: (
        "I help my family and close friends even if it costs me.",
        "I put the wellbeing of the people I love first.",
        "I stay loyal and supportive to those close to me.",
    ),
    SchwartzValue.UNIVERSALISM: (
        "I choose what is fair and just for everyone, including strangers.",
        "I consider the wider world, equality and the environment.",
        "I act with tolerance and care for all people and nature.",
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
