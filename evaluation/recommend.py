"""Evidence for the recommendations: planted taste groups, and whether item similarity finds them.

The generated sample has five game types and no structure between them, so this module plants one:
twenty games in four families (card games, mahjong variants, poker, board games). Each customer plays
mostly within one family; the families are unequally popular, so recommending the most popular games
is a strong baseline. In the last 30 days about half the customers take up a game they had not played,
usually of their own family. The time-split evaluation (tasks/act/recommend.py) should find those games
better than popularity does.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from tasks.act.recommend import SIMILARITIES, evaluate_recommendations
from tasks.shared.config.act import RecommendationConfig
from tasks.shared.warehouse import Warehouse

FAMILIES = {
    "card": ("斗地主", "跑得快", "掼蛋", "升级", "桥牌"),
    "mahjong": ("四川麻将", "广东麻将", "国标麻将", "二人麻将", "血战到底"),
    "poker": ("德州扑克", "炸金花", "牛牛", "十三水", "梭哈"),
    "board": ("象棋", "围棋", "五子棋", "军棋", "跳棋"),
}
FAMILY_SHARES = np.array([0.45, 0.30, 0.15, 0.10])  # of customers
ITEM_SHARES = np.array([0.40, 0.25, 0.15, 0.12, 0.08])  # of a family's plays, its first game the most played
STRAY = 0.10  # chance a customer's extra or new game is outside their family (chosen by overall popularity)
TAKE_UP = 0.5  # share of customers who take up a new game in the last WINDOW_DAYS
PAYERS = 0.3  # share of customers who also buy something in one of their games
HISTORY_DAYS = 365
WINDOW_DAYS = 30
PLANTED_AS_OF = date(2026, 11, 30)
TIMEZONE = "Asia/Shanghai"
SEGMENTS = ("Champions", "Loyal Customers", "At Risk", "Hibernating", None)

ITEMS = [item for family in FAMILIES.values() for item in family]
FAMILY_OF = np.repeat(np.arange(len(FAMILIES)), len(ITEM_SHARES))
OVERALL_SHARES = np.repeat(FAMILY_SHARES, len(ITEM_SHARES)) * np.tile(ITEM_SHARES, len(FAMILIES))


def pick(rng: np.random.Generator, weights: np.ndarray, exclude: set[int]) -> int | None:
    """One item index drawn by weights among those not excluded (None when none is left)."""
    allowed = weights.copy()
    allowed[list(exclude)] = 0
    total = allowed.sum()
    return None if total == 0 else int(rng.choice(allowed.size, p=allowed / total))


def taste_weights(family: int, stray: bool) -> np.ndarray:
    """Weights over all items: the family's own games, or (stray) the other families' by overall popularity."""
    own = np.equal(FAMILY_OF, family)
    return np.where(own, 0, OVERALL_SHARES) if stray else np.where(own, OVERALL_SHARES, 0)


def planted_interactions(customers: int, seed: int, as_of: date = PLANTED_AS_OF) -> dict[str, pl.DataFrame]:
    """The tables the recommendation models read, by name: identity map, events, transactions, segments.

    Every game a customer had before the window (dates up to as_of - WINDOW_DAYS) has sessions spread over
    the year before it; a game taken up in the window has its sessions only inside it.
    """
    rng = np.random.default_rng(seed)
    cutoff = datetime.combine(as_of + timedelta(days=1), time(), ZoneInfo(TIMEZONE)).astimezone(UTC)
    day = 86_400
    plays: list[tuple[int, int, float]] = []  # (customer, item, seconds before the cutoff)
    purchases: list[tuple[int, int, float]] = []
    for customer in range(customers):
        family = int(rng.choice(len(FAMILIES), p=FAMILY_SHARES))
        held: set[int] = set()
        for _ in range(int(rng.choice([1, 2, 3], p=[0.4, 0.4, 0.2]))):
            item = pick(rng, taste_weights(family, stray=False), held)
            if item is not None:
                held.add(item)
        extra = pick(rng, taste_weights(family, stray=True), held) if rng.random() < STRAY else None
        if extra is not None:
            held.add(extra)
        for item in sorted(held):
            for offset in rng.uniform(WINDOW_DAYS * day + 1, HISTORY_DAYS * day, 1 + rng.poisson(4)):
                plays.append((customer, item, offset))
            for offset in rng.uniform(1, WINDOW_DAYS * day, rng.poisson(1)):
                plays.append((customer, item, offset))
        if rng.random() < TAKE_UP:
            new = pick(rng, taste_weights(family, stray=rng.random() < STRAY), held)
            if new is not None:
                for offset in rng.uniform(1, WINDOW_DAYS * day, 1 + rng.poisson(2)):
                    plays.append((customer, new, offset))
        if rng.random() < PAYERS:
            item = sorted(held)[int(rng.integers(len(held)))]
            purchases.append((customer, item, float(rng.uniform(1, HISTORY_DAYS * day))))
    return {
        "core.identity_map": pl.DataFrame(
            {
                "source": "game",
                "source_id": [f"p{n}" for n in range(customers)],
                "customer_id": [f"C{n:06d}" for n in range(customers)],
            }
        ),
        "core.events": facts(plays, cutoff).with_columns(
            event_type=pl.lit("session"), duration_s=pl.lit(600.0)
        ),
        "core.transactions": facts(purchases, cutoff).with_columns(amount=pl.lit(6.0), status=pl.lit("paid")),
        "segments.customer_segments": pl.DataFrame(
            {
                "customer_id": [f"C{n:06d}" for n in range(customers)],
                "rfm_segment": [SEGMENTS[i] for i in rng.integers(len(SEGMENTS), size=customers)],
            },
            schema={"customer_id": pl.String, "rfm_segment": pl.String},
        ),
    }


def facts(rows: list[tuple[int, int, float]], cutoff: datetime) -> pl.DataFrame:
    """(customer, item, seconds before the cutoff) as rows of core.events or core.transactions."""
    return pl.DataFrame(
        {
            "record_source": ["game"] * len(rows),
            "record_id": [f"p{customer}" for customer, _, _ in rows],
            "ts": [cutoff - timedelta(seconds=offset) for _, _, offset in rows],
            "category": [ITEMS[item] for _, item, _ in rows],
        },
        schema={
            "record_source": pl.String,
            "record_id": pl.String,
            "ts": pl.Datetime("us", "UTC"),
            "category": pl.String,
        },
    )


def load_tables(wh: Warehouse, tables: dict[str, pl.DataFrame]) -> None:
    """Write each table of planted_interactions into the warehouse, and the events' daily roll-up (act reads it)."""
    for name, frame in tables.items():
        wh.write_frame(name, frame)
    wh.build("features.daily_activity", "features/daily_activity", identifiers={"events": "core.events"})


def evaluate_planted(customers: int = 20000, seed: int = 42) -> str:
    """Time-split scores of item similarity (each measure) and of popularity on planted taste groups, as text."""
    config = RecommendationConfig(top_k=5)
    with Warehouse(":memory:", timezone=TIMEZONE) as wh:
        load_tables(wh, planted_interactions(customers, seed))
        rows = []
        for similarity in SIMILARITIES:
            measured = config.model_copy(update={"similarity": similarity})
            for row in evaluate_recommendations(wh, measured, ["session"], PLANTED_AS_OF):
                if row["model"] != "popularity":
                    rows.append({**row, "model": f"{row['model']} ({similarity})"})
                elif similarity == SIMILARITIES[0]:
                    baseline = row
        rows.append(baseline)
    k = config.top_k
    lines = [
        f"Recommendations on planted taste groups: {customers} customers, seed {seed}, as of {PLANTED_AS_OF}, "
        f"fitted {config.evaluation_days} days earlier, k = {k}",
        f"{'model':<30} {'users':>6} {f'precision@{k}':>12} {f'recall@{k}':>9} {f'nDCG@{k}':>7} {'coverage':>8}",
    ]
    for row in rows:
        lines.append(
            f"{row['model']:<30} {row['users']:>6} {row['precision']:>12.4f} {row['recall']:>9.4f} "
            f"{row['ndcg']:>7.4f} {row['coverage']:>8.2f}"
        )
    return "\n".join(lines)
