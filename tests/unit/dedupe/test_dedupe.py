"""Dedupe on generated data, scored against the generator's ground truth."""

from pathlib import Path

import polars as pl
import pytest

from evaluation.linkage import pairwise_scores
from tasks.dedupe import dedupe_all
from tasks.extract import extract_all
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_CUSTOMERS, SAMPLE_END

# Which rows of each source are scored, and how a row reaches its customer.
PREDICTED = """
select 'crm:' || source_id as item, customer_id as cluster from core.identity_map where source = 'crm'
union all
select 'payments:' || t.txn_id, m.customer_id
from core.transactions t join core.identity_map m on m.source = t.record_source and m.source_id = t.record_id
union all
select t.source || ':' || t.event_id, m.customer_id
from core.events t join core.identity_map m on m.source = t.record_source and m.source_id = t.record_id
union all
select 'survey:' || t.feedback_id, m.customer_id
from core.feedback t join core.identity_map m on m.source = t.record_source and m.source_id = t.record_id
"""


@pytest.fixture(scope="module")
def scored(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float]]:
    """Pairwise scores per source and overall, after extract and dedupe of the sample data."""
    from tests.conftest import write_config

    config = load_config(write_config(sample_data, tmp_path_factory.mktemp("dedupe")))
    truth = pl.read_csv(sample_data / "truth" / "records.csv", infer_schema=False).select(
        item=pl.col("source") + ":" + pl.col("record_id"), entity="person_id"
    )
    with Warehouse.open(config) as wh:
        extract_all(wh, config, "test")
        dedupe_all(wh, config, SAMPLE_END)
        predicted = wh.frame(PREDICTED)
        customers = wh.scalar("select count(distinct customer_id) from core.identity_map")
    scores = {
        source: pairwise_scores(predicted.filter(pl.col("item").str.starts_with(f"{source}:")), truth)
        for source in ("crm", "payments", "game", "survey")
    }
    scores["all"] = pairwise_scores(predicted, truth)
    scores["all"]["customers"] = customers
    scores["all"]["truth_rows"] = truth.height
    return scores


def test_exact_matching_never_merges_two_people(scored: dict[str, dict[str, float]]) -> None:
    # placeholders (13800000000, test@test.com) are shared by unrelated people in the sample: never matched
    for source, score in scored.items():
        assert score["precision"] == 1.0, source


def test_exact_matching_finds_the_duplicates_it_can(scored: dict[str, dict[str, float]]) -> None:
    # about 1 in 5 duplicate CRM registrations changes both phone and email: exact rules cannot see those
    assert scored["crm"]["recall"] >= 0.8
    # payments made with only a placeholder phone or email cannot be attributed: each stays on its own
    assert scored["payments"]["recall"] >= 0.98
    assert scored["game"]["recall"] >= 0.99
    assert scored["all"]["f1"] >= 0.99
    # every row except the quarantined ones (about 0.5%) was scored, not a convenient sliver
    assert scored["all"]["items"] >= 0.99 * scored["all"]["truth_rows"]
    # fewer customers than people is impossible without a false merge; more is what exact rules miss
    assert SAMPLE_CUSTOMERS <= scored["all"]["customers"] <= 1.2 * SAMPLE_CUSTOMERS


def test_every_record_maps_to_exactly_one_customer(sample_data: Path, tmp_path: Path) -> None:
    from tests.conftest import write_config

    config = load_config(write_config(sample_data, tmp_path))
    with Warehouse.open(config) as wh:
        extract_all(wh, config, "test")
        dedupe_all(wh, config, SAMPLE_END)
        assert (
            wh.rows("select count(*), count(distinct (source, source_id)) from core.identity_map")[0]
            == (wh.scalar("select count(*) from core.identity_map"),) * 2
        )
        # every staged fact row reaches a customer
        for kind in ("transactions", "events", "feedback"):
            unmapped = wh.scalar(
                f"""
                select count(*) from core.{kind} f
                left join core.identity_map m on m.source = f.record_source and m.source_id = f.record_id
                where m.customer_id is null and f.ts < $cutoff
                """,
                {"cutoff": config.cutoff(SAMPLE_END)},
            )
            assert unmapped == 0, kind
        # one customer per cluster of records, as many customers as golden records
        assert wh.scalar("select count(*) from core.customers") == wh.scalar(
            "select count(distinct customer_id) from core.identity_map"
        )


def test_a_day_before_every_source_has_no_customer_and_fails_saying_when_the_rows_begin(
    sample_data: Path, tmp_path: Path
) -> None:
    from datetime import date

    from tasks.dedupe import require_customers
    from tasks.shared.errors import DataError
    from tests.conftest import write_config

    config = load_config(write_config(sample_data, tmp_path))
    with Warehouse.open(config) as wh:
        extract_all(wh, config, "test")
        first = wh.scalar(
            "select min(first) from (select min(valid_from)::date as first from staging.customers union all "
            "select min(ts)::date from staging.transactions union all select min(ts)::date from staging.events "
            "union all select min(ts)::date from staging.feedback)"
        )
        early = dedupe_all(wh, config, date(2020, 1, 1))
        assert early.customers == 0
        with pytest.raises(DataError) as raised:
            require_customers(wh, early, date(2020, 1, 1))
        assert str(raised.value) == (
            f"no customer is known as of 2020-01-01, so there is nothing to publish: the sources' staged rows begin "
            f"on {first}; run a day from then on"
        )
        day = dedupe_all(wh, config, SAMPLE_END)
        assert require_customers(wh, day, SAMPLE_END) is day
