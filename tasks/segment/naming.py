"""Cluster names: a value word and an activity word from the features a centroid stands out on.

A centroid's profile is its position on each feature in standard deviations from the population mean
(of the log1p feature, over every customer); see tasks.segment.clusters.profile_z. A word must also
agree with the members' own numbers (Members): their mean log1p value must be NAME_Z standard deviations
from the mean of the population that the word compares with, the purchasers for the purchase measures (one
order is "frequent" next to the many customers with none, not next to the other buyers), and no word may
contradict a customer tag of sql/segments/customer_tags.sql (its thresholds below are bound into that model
by tasks/segment/tags.py, so both read the same numbers).
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

NAME_Z = 0.5  # a feature describes a cluster when its centroid is at least this many std from the mean

# The activity tag (活跃度) of sql/segments/customer_tags.sql: 不活跃 without a purchase, session or event in
# the last ACTIVE_DAYS days; else 高活跃 from HIGH_SESSIONS_30D sessions in 30 days, 中活跃 from
# MEDIUM_SESSIONS_30D, else 低活跃.
ACTIVE_DAYS = 30
HIGH_SESSIONS_30D = 15
MEDIUM_SESSIONS_30D = 5
# Compared with the purchasers' mean, not everyone's: non-purchasers (0 orders) would make one order "frequent".
PURCHASE_FEATURES = ("frequency", "monetary", "payments_90d")

# (high, low) words of each feature. A name has one word of each group, value then activity: the first
# feature of the group (in this order of importance) whose centroid is distinctive.
VALUE_WORDS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "monetary": (("高消费", "high-spending"), ("低消费", "low-spending")),
    "frequency": (("高频", "frequent"), ("低频", "infrequent")),
    "payments_90d": (("近90天付费", "90-day paying"), ("近90天未付费", "90-day non-paying")),
}
ACTIVITY_WORDS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "inactive_days": (("久未活跃", "long-inactive"), ("近期活跃", "recently active")),
    "sessions_90d": (("常玩", "often-playing"), ("少玩", "rarely playing")),
    "session_minutes_90d": (("长时游戏", "long-playing"), ("短时游戏", "short-playing")),
}
# Words of earlier versions, (Chinese, English), and the (feature, high) they meant: an inherited name is
# read in today's words for them. 近期付费 said "recently" of a payment up to 90 days old, next to the
# lifecycle's 30 days; a name with it could hold 沉睡 members.
OLD_WORDS = {
    ("近期付费", "recently paying"): ("payments_90d", True),
    ("近期未付费", "lapsed"): ("payments_90d", False),
}
NON_PAYING = ("未付费", "non-paying")
TYPICAL = ("typical customers", "普通客户")


@dataclass(frozen=True)
class Members:
    """What a cluster's members and the population are in original units: what its words must agree with."""

    # the members' mean log1p value of each feature, in standard deviations from the population's mean:
    # of the purchasers for PURCHASE_FEATURES, of every customer for the others
    z: dict[str, float]
    all_active: bool  # every member surely active in the last ACTIVE_DAYS days: none is tagged 不活跃
    all_inactive: bool  # every member inactive for ACTIVE_DAYS days or more: all are tagged 不活跃
    all_purchasers: bool  # every member has a purchase: none is 未消费
    no_purchasers: bool  # no member has a purchase
    below_high_sessions: bool  # every member under HIGH_SESSIONS_30D sessions in 90 days: none is 高活跃


# What each (feature, high?) word needs of the members besides its direction, so that no tag contradicts it.
TAG_CHECKS: dict[tuple[str, bool], Callable[[Members], bool]] = {
    ("inactive_days", True): lambda m: m.all_inactive,  # 久未活跃: every member 不活跃
    ("inactive_days", False): lambda m: m.all_active,  # 近期活跃: no member 不活跃
    ("sessions_90d", True): lambda m: m.all_active,  # 常玩: no member 不活跃
    ("session_minutes_90d", True): lambda m: m.all_active,  # 长时游戏: no member 不活跃
    ("sessions_90d", False): lambda m: m.below_high_sessions,  # 少玩: no member 高活跃
    ("session_minutes_90d", False): lambda m: m.below_high_sessions,  # 短时游戏: no member 高活跃
    ("monetary", True): lambda m: m.all_purchasers,  # 高消费: no member 未消费
    ("frequency", True): lambda m: m.all_purchasers,  # 高频: no member 未消费
    ("payments_90d", True): lambda m: m.all_purchasers,  # 近90天付费: no member 未消费
}


def agrees(feature: str, high: bool, members: Members | None) -> bool:
    """Whether the members' numbers bear out the feature's high (or low) word; always, without members."""
    if members is None:
        return True
    distinct = members.z[feature] >= NAME_Z if high else members.z[feature] <= -NAME_Z
    return distinct and TAG_CHECKS.get((feature, high), lambda _: True)(members)


def _fits(feature: str, z: dict[str, float], members: Members | None) -> bool:
    """A feature names a cluster: its centroid is distinctive and the members agree with the word."""
    return abs(z[feature]) >= NAME_Z and agrees(feature, z[feature] > 0, members)


def _word(
    group: dict[str, tuple[tuple[str, str], tuple[str, str]]], z: dict[str, float], members: Members | None
) -> str | None:
    """The group's first feature that fits the cluster, if any does."""
    return next((f for f in group if _fits(f, z, members)), None)


def _non_paying(values: dict[str, float], members: Members | None) -> bool:
    """The cluster is 未付费: no member has a purchase (without members: the centroid spends nothing)."""
    return members.no_purchasers if members is not None else values["monetary"] < 1


def first_features(z: dict[str, float], values: dict[str, float], members: Members | None) -> list[str]:
    """The features of a cluster's value word and activity word (monetary for 未付费): clusters that share them
    are told apart by the words after (see cluster_name's rivals)."""
    value = "monetary" if _non_paying(values, members) else _word(VALUE_WORDS, z, members)
    return [f for f in (value, _word(ACTIVITY_WORDS, z, members)) if f]


def _outdone(feature: str, z: dict[str, float], rivals: Sequence[dict[str, float]]) -> bool:
    """A rival stands out more on the feature, the same way: the word would tell this cluster from it by what
    the rival has more of (4 orders called frequent beside a cluster of 10)."""
    return any(rival[feature] * z[feature] > 0 and abs(rival[feature]) > abs(z[feature]) for rival in rivals)


def _words(
    z: dict[str, float],
    values: dict[str, float],
    members: Members | None,
    rivals: Sequence[dict[str, float]] = (),
) -> list[tuple[str, str]]:
    """The (zh, en) words that describe a centroid, most important first (see cluster_name)."""
    words = {**VALUE_WORDS, **ACTIVITY_WORDS}
    non_paying = _non_paying(values, members)
    first = first_features(z, values, members)
    said = set(first) | (set(PURCHASE_FEATURES) if non_paying else set())  # 未付费 says them all
    rest = sorted(
        (f for f in words if f not in said and _fits(f, z, members) and not _outdone(f, z, rivals)),
        key=lambda f: -abs(z[f]),
    )
    return [
        NON_PAYING if f == "monetary" and non_paying else words[f][0 if z[f] > 0 else 1] for f in first + rest
    ]


def cluster_name(
    z: dict[str, float],
    values: dict[str, float],
    extra: int = 0,
    members: Members | None = None,
    rivals: Sequence[dict[str, float]] = (),
) -> tuple[str, str] | None:
    """English and Chinese name of a cluster from its profile relative to the population.

    One word for value (monetary, else frequency, else 90-day payments) and one for activity (days
    inactive, else 90-day sessions, else 90-day minutes): the first feature of each group whose centroid
    is at least NAME_Z standard deviations (of the log1p feature) from the population mean and whose
    members agree (see agrees), e.g. 高消费近期活跃客户 / high-spending recently active customers.
    A cluster none of whose members bought is 未付费 / non-paying; with no fitting feature it is
    普通客户 / typical customers. extra adds that many more words (the other fitting features, most
    distinctive first), to tell apart clusters whose first two words are the same; None when there are
    not that many. rivals: the profiles of the other clusters of the same value and activity words; no word
    after those is one a rival stands out on more, the same way.
    """
    words = _words(z, values, members, rivals)
    first = min(len(words), 2)
    if extra and first + extra > len(words):
        return None
    words = words[: first + extra]
    if not words:
        return TYPICAL
    return " ".join(en for _, en in words) + " customers", "".join(zh for zh, _ in words) + "客户"


def unique_name(
    z: dict[str, float],
    values: dict[str, float],
    taken: set[str],
    cluster_id: int,
    members: Members | None = None,
    rivals: Sequence[dict[str, float]] = (),
) -> tuple[str, str]:
    """cluster_name with as many extra words as it takes to differ from taken names (none that a rival, a cluster
    of the same value and activity words, stands out on more); else the id appended."""
    # one try per describable feature: there are never more words than that
    for extra in range(len(VALUE_WORDS) + len(ACTIVITY_WORDS)):
        name = cluster_name(z, values, extra, members, rivals)
        if name is None:
            break
        if not {*name} & taken:
            return name
    en, zh = cluster_name(z, values, members=members, rivals=rivals) or TYPICAL
    return f"{en} ({cluster_id})", f"{zh}({cluster_id})"


def renamed(name_en: str, name_zh: str) -> tuple[str, str]:
    """An inherited name in today's words (an earlier version's 近期付费 / recently paying reads 近90天付费 / 90-day
    paying): the cluster keeps its id and its name's meaning."""
    for (old_zh, old_en), (feature, high) in OLD_WORDS.items():
        new_zh, new_en = VALUE_WORDS[feature][0 if high else 1]
        name_zh = name_zh.replace(old_zh, new_zh)
        name_en = re.sub(rf"\b{re.escape(old_en)}\b", new_en, name_en)
    return name_en, name_zh


def name_words(name_zh: str) -> list[str] | None:
    """The words of a Chinese cluster name (高消费近期活跃客户(3) → 高消费, 近期活跃); None if not one of ours."""
    vocabulary = sorted(
        [NON_PAYING[0], *(zh for zh, _ in OLD_WORDS)]
        + [w[0] for pair in (*VALUE_WORDS.values(), *ACTIVITY_WORDS.values()) for w in pair],
        key=len,
        reverse=True,
    )
    rest = name_zh.split("(")[0].removesuffix("客户")
    if rest == "普通":
        return []
    words = []
    while rest:
        word = next((w for w in vocabulary if rest.startswith(w)), None)
        if word is None:
            return None
        words.append(word)
        rest = rest[len(word) :]
    return words


def still_fits(name_zh: str, members: Members | None) -> bool:
    """Whether an inherited name may stay: each of its words still points the way its members' numbers do.

    Hysteresis: a new word needs NAME_Z standard deviations, a kept one only the same side of the mean and
    no tag against it, so a name does not flip with small daily moves but never outlives its numbers.
    """
    words = name_words(name_zh)
    if members is None or words is None:
        return True  # nothing to check it against
    meaning = {zh: meant for (zh, _), meant in OLD_WORDS.items()} | {
        zh: (feature, high)
        for feature, pair in (*VALUE_WORDS.items(), *ACTIVITY_WORDS.items())
        for (zh, _), high in zip(pair, (True, False), strict=True)
    }
    for word in words:
        if word == NON_PAYING[0]:
            if not members.no_purchasers:
                return False
            continue
        feature, high = meaning[word]
        side = members.z[feature] > 0 if high else members.z[feature] < 0
        if not (side and TAG_CHECKS.get((feature, high), lambda _: True)(members)):
            return False
    return True
