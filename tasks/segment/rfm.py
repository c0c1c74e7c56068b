"""The RFM schemes' rule tables: the named segments of the R × FM grid, the Chinese 8 classes, the fallback
(their names and ranges: tasks/shared/rfm_names.py).

The SQL models (sql/segments/rfm_scores.sql, rfm_cn_classes.sql) score the customers and load these
tables (write_rule_table, below) to name them. Scores run 1–5 and higher is better on every
axis: a recent buyer has a high R.
"""

from dataclasses import asdict

import polars as pl

from tasks.shared.config import SegmentConfig
from tasks.shared.rfm_names import CN_RFM_CLASSES, NO_PURCHASE, RFM_SEGMENTS
from tasks.shared.warehouse import Warehouse


def write_rule_table(wh: Warehouse) -> None:
    """Load the RFM schemes' rules and their fallback segment into segments.rfm_*_rules and rfm_fallback."""
    rules = pl.DataFrame([asdict(s) for s in RFM_SEGMENTS]).rename({"name": "segment"})
    wh.write_frame("segments.rfm_segment_rules", rules)
    wh.write_frame("segments.rfm_cn_class_rules", pl.DataFrame([asdict(c) for c in CN_RFM_CLASSES]))
    wh.write_frame("segments.rfm_fallback", pl.DataFrame([asdict(NO_PURCHASE)]))


def score_params(config: SegmentConfig) -> dict[str, object]:
    """The RFM score method and its fixed cut points as SQL parameters ($method, $r1..$r4, $f1.., $m1..)."""
    bins = config.score_bins
    params: dict[str, object] = {"method": config.score_method}
    for prefix, cuts in (("r", bins.recency_days), ("f", bins.frequency), ("m", bins.monetary)):
        params |= {f"{prefix}{i}": float(cut) for i, cut in enumerate(cuts, start=1)}
    return params
