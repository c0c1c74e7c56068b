"""Cluster names: a value word and an activity word from the features a centroid stands out on.

A centroid's profile is its position on each feature in standard deviations from the population mean
(of the log1p feature); see tasks.segment.clusters.profile_z.
"""

NAME_Z = 0.5  # a feature describes a cluster when its centroid is at least this many std from the mean

# (high, low) words of each feature. A name has one word of each group, value then activity: the first
# feature of the group (in this order of importance) whose centroid is distinctive.
VALUE_WORDS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "monetary": (("高消费", "high-spending"), ("低消费", "low-spending")),
    "frequency": (("高频", "frequent"), ("低频", "infrequent")),
    "payments_90d": (("近期付费", "recently paying"), ("近期未付费", "lapsed")),
}
ACTIVITY_WORDS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "inactive_days": (("久未活跃", "long-inactive"), ("近期活跃", "recently active")),
    "sessions_90d": (("常玩", "often-playing"), ("少玩", "rarely playing")),
    "session_minutes_90d": (("长时游戏", "long-playing"), ("短时游戏", "short-playing")),
}
NON_PAYING = ("未付费", "non-paying")


def _word(group: dict[str, tuple[tuple[str, str], tuple[str, str]]], z: dict[str, float]) -> str | None:
    """The group's first feature whose centroid is distinctive, if any is."""
    return next((f for f in group if abs(z[f]) >= NAME_Z), None)


def _words(z: dict[str, float], values: dict[str, float]) -> list[tuple[str, str]]:
    """The (zh, en) words that describe a centroid, most important first (see cluster_name)."""
    words = {**VALUE_WORDS, **ACTIVITY_WORDS}
    value = "monetary" if values["monetary"] < 1 else _word(VALUE_WORDS, z)
    first = [f for f in (value, _word(ACTIVITY_WORDS, z)) if f]
    rest = sorted((f for f in words if f not in first and abs(z[f]) >= NAME_Z), key=lambda f: -abs(z[f]))
    return [
        NON_PAYING if f == "monetary" and values["monetary"] < 1 else words[f][0 if z[f] > 0 else 1]
        for f in first + rest
    ]


def cluster_name(z: dict[str, float], values: dict[str, float], extra: int = 0) -> tuple[str, str] | None:
    """English and Chinese name of a cluster from its profile relative to the population.

    One word for value (monetary, else frequency, else 90-day payments) and one for activity (days
    inactive, else 90-day sessions, else 90-day minutes): the first feature of each group whose centroid
    is at least NAME_Z standard deviations (of the log1p feature) from the population mean, e.g.
    高消费近期活跃客户 / high-spending recently active customers.
    A cluster whose centroid spends nothing is 未付费 / non-paying; with no distinctive feature it is
    普通客户 / typical customers. extra adds that many more words (the other distinctive features, most
    distinctive first), to tell apart clusters whose first two words are the same; None when there are
    not that many.
    """
    words = _words(z, values)
    first = min(len(words), 2)
    if extra and first + extra > len(words):
        return None
    words = words[: first + extra]
    if not words:
        return "typical customers", "普通客户"
    return " ".join(en for _, en in words) + " customers", "".join(zh for zh, _ in words) + "客户"


def unique_name(
    z: dict[str, float], values: dict[str, float], taken: set[str], cluster_id: int
) -> tuple[str, str]:
    """cluster_name with as many extra words as it takes to differ from taken names; else the id appended."""
    # one try per describable feature: there are never more words than that
    for extra in range(len(VALUE_WORDS) + len(ACTIVITY_WORDS)):
        name = cluster_name(z, values, extra)
        if name is None:
            break
        if not {*name} & taken:
            return name
    en, zh = cluster_name(z, values)
    return f"{en} ({cluster_id})", f"{zh}({cluster_id})"
