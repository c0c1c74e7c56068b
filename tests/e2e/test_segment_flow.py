"""Segmentation end to end on the generated sample data: two consecutive days through the real flow."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

from flows.cli import app
from flows.daily_refresh import daily_refresh
from tasks.segment.clusters import FEATURES
from tasks.shared.config import load_config
from tasks.shared.contracts import SCHEME_COLUMNS
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_END

pytestmark = pytest.mark.e2e

DAY1 = SAMPLE_END - timedelta(days=1)
TAGS = ("activity", "cluster", "lifecycle_stage", "rfm_cn_class", "rfm_segment", "value_tier")


def test_two_days_publish_every_scheme_clusters_tags_and_stability(
    prefect_server: None, sample_data: Path, make_config
) -> None:
    config_path = make_config(sample_data)
    first = daily_refresh(as_of=DAY1, config=str(config_path))
    second = daily_refresh(as_of=SAMPLE_END, config=str(config_path))
    config = load_config(config_path)

    with Warehouse.open(config, read_only=True) as wh:
        customers = wh.scalar(
            "select count(*) from published.customer_segments where as_of = ?", [SAMPLE_END]
        )
        # every published customer has a segment of every scheme, a cluster id and both cluster names
        assert wh.rows(
            """
            select as_of, count(*) filter (where rfm_segment is null or rfm_segment_zh is null
                or rfm_cn_class is null or rfm_cn_class_en is null or value_tier is null
                or lifecycle_stage is null or cluster_id is null or cluster_name is null or cluster_name_zh is null)
            from published.customer_segments group by all order by 1
            """
        ) == [(DAY1, 0), (SAMPLE_END, 0)]
        # the cluster of a customer is the one the centroid table names, with the same size
        assert wh.rows(
            """
            select count(*) from (
                select cluster_id, cluster_name, cluster_name_zh, count(*) as n
                from published.customer_segments where as_of = $day group by all
            ) published
            full join (select * from segments.cluster_centroids where as_of = $day) centroids using (cluster_id)
            where published.n is distinct from centroids.size
                or published.cluster_name is distinct from centroids.name_en
                or published.cluster_name_zh is distinct from centroids.name_zh
            """,
            {"day": SAMPLE_END},
        ) == [(0,)]
        models = wh.dicts("select * from segments.cluster_models order by as_of")
        centroids = {
            day: wh.rows(
                "select cluster_id, name_en, name_zh from segments.cluster_centroids where as_of = ? order by 1",
                [day],
            )
            for day in (DAY1, SAMPLE_END)
        }
        # tags: each of these once per customer; one rule_segment tag per rule membership
        tag_counts = dict(
            wh.rows(
                "select tag, count(distinct customer_id) from published.customer_tags where as_of = ? group by 1",
                [SAMPLE_END],
            )
        )
        memberships = wh.scalar("select count(*) from segments.rule_memberships")
        rule_tags = wh.scalar(
            "select count(*) from published.customer_tags where as_of = ? and tag = 'rule_segment'",
            [SAMPLE_END],
        )
        both = {
            scheme: wh.rows(
                f"select a.{column}::varchar, b.{column}::varchar from published.customer_segments a "
                f"join published.customer_segments b using (customer_id) where a.as_of = ? and b.as_of = ?",
                [DAY1, SAMPLE_END],
            )
            for scheme, column in SCHEME_COLUMNS.items()
        }
        stored = wh.rows(
            "select scheme, ari, customers_compared, changed from segments.stability where as_of = ? order by 1",
            [SAMPLE_END],
        )
        changes = dict(wh.rows("select scheme, count(*) from segments.segment_moves group by 1"))
        profile_customer = wh.scalar(
            """
            select customer_id from published.customer_segments s
            where as_of = ? and frequency is not null
                and (select count(*) from core.identity_map i where i.customer_id = s.customer_id) > 1
            order by customer_id limit 1
            """,
            [SAMPLE_END],
        )
        profile_row = wh.dicts(
            "select * from published.customer_segments where as_of = ? and customer_id = ?",
            [SAMPLE_END, profile_customer],
        )[0]

    # the cluster model: 4 clusters (fixed k), explained by a depth-3 tree with its fidelity
    model = second["segments"]["cluster_model"]
    assert (model["k"], model["k_method"], len(model["clusters"])) == (4, "fixed", 4)
    assert 0.7 <= model["fidelity"] <= 1
    assert model["tree_rules"].startswith("|--- ")
    assert any(feature in model["tree_rules"] for feature in FEATURES)
    assert all(
        f"class: {c['cluster_id']} {c['name_en']}" in model["tree_rules"] for c in model["clusters"][:1]
    )
    assert [m["as_of"] for m in models] == [DAY1, SAMPLE_END]
    assert (models[0]["previous_as_of"], models[1]["previous_as_of"]) == (None, DAY1)
    assert json.loads(models[1]["features"]) == list(FEATURES)
    assert models[1]["fidelity"] == model["fidelity"]
    # one day later the clusters are the same: the same ids and names
    assert centroids[SAMPLE_END] == centroids[DAY1]
    assert not any(c["new"] for c in model["clusters"])

    assert {tag: tag_counts[tag] for tag in TAGS} == dict.fromkeys(TAGS, customers)
    assert rule_tags == memberships

    # stability: the first day has nothing to compare with; the second compares every scheme with it
    assert first["segments"]["stability"] == {"previous_as_of": None, "schemes": []}
    stability = second["segments"]["stability"]
    assert stability["previous_as_of"] == DAY1.isoformat()
    expected = []
    for scheme, pairs in sorted(both.items()):
        before = [a if a is not None else "(none)" for a, _ in pairs]
        after = [b if b is not None else "(none)" for _, b in pairs]
        changed = sum(a != b for a, b in zip(before, after, strict=True))
        expected.append((scheme, round(adjusted_rand_score(before, after), 6), len(pairs), changed))
    assert stored == expected
    assert sorted(
        (s["scheme"], s["ari"], s["customers_compared"], s["changed"]) for s in stability["schemes"]
    ) == (expected)
    assert all(count > 0 for _, _, count, _ in expected)
    assert changes == {scheme: changed for scheme, _, _, changed in expected if changed}

    report = Path(second["publish"]["report"]).read_text(encoding="utf-8")
    assert f"### 决策树（深度 3） Decision tree (depth 3), fidelity {model['fidelity']:.1%}\n" in report
    assert model["tree_rules"].splitlines()[0] in report
    assert f"## 稳定性 Stability {DAY1}" in report
    cluster = next(row for row in expected if row[0] == "cluster")
    assert f"| 聚类客群 (Clusters) | {cluster[1]} | {cluster[2]:,} | {cluster[3]:,} | " in report

    # the customer 360 profile, read-only from the command line
    runner = CliRunner()
    shown = runner.invoke(app, ["profile", profile_customer, "--config", str(config_path)])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith(f"Customer {profile_customer} as of {SAMPLE_END}\n")
    for text in (
        "Identities (source records):",
        f"{profile_row['rfm_segment']} / {profile_row['rfm_segment_zh']}",
        f"{profile_row['cluster_name']} / {profile_row['cluster_name_zh']}",
        f"付费等级 (value_tier)  {profile_row['value_tier_zh']}",
    ):
        assert text in shown.output
    assert re.search(rf"^  monetary +{profile_row['monetary']}$", shown.output, flags=re.MULTILINE)
    unknown = runner.invoke(app, ["profile", "C0000000000000000", "--config", str(config_path)])
    assert unknown.exit_code == 2
    assert "no customer 'C0000000000000000' in the warehouse" in unknown.output
