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
