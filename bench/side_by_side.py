"""Side-by-side comparisons on a refreshed warehouse: SQL features vs pandas, our dedupe vs Splink."""

import logging
import time
from datetime import date
from importlib import metadata
from pathlib import Path

import pandas as pd
import polars as pl

from bench.pandas_features import load_inputs, run_pandas
from evaluation.linkage import pairwise_scores, truth_from_file
from tasks.dedupe import dedupe_all
from tasks.features import features_day
from tasks.segment import score_params
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse

FLOAT_COLUMNS = ("session_minutes_90d", "avg_feedback_score")
DATE_COLUMNS = (
    "first_purchase_date",
    "last_purchase_date",
    "last_session_date",
    "last_active_date",
    "first_seen_date",
)


def _normalized(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Columns in comparable dtypes: dates as datetime64, numbers as nullable, sorted by customer_id."""
    out = frame[columns].sort_values("customer_id").reset_index(drop=True).copy()
    for column in columns:
        if column in DATE_COLUMNS:
            out[column] = pd.to_datetime(out[column]).astype("datetime64[ns]")
        elif column in FLOAT_COLUMNS:
            out[column] = out[column].astype("Float64")
        elif column not in (
            "customer_id",
            "favourite_game",
            "rfm_segment",
            "rfm_segment_zh",
            "marketing_consent",
        ):
            out[column] = out[column].astype("Float64").astype("Int64")
        elif column == "marketing_consent":
            out[column] = out[column].astype("boolean")
        else:
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


def features_vs_pandas(config: PipelineConfig, as_of: date) -> dict:
    """Time the SQL features + RFM models and the pandas version on the same warehouse; assert equal outputs."""
    cutoff = config.cutoff(as_of)
    with Warehouse.open(config) as wh:
        started = time.perf_counter()
        features_day(wh, config, as_of)
        wh.build("segments.rfm_scores", "segments/rfm_scores", score_params(config.segments))
        sql_s = time.perf_counter() - started
        sql_features = wh.con.execute(
            "select * exclude (monetary), cast(round(monetary * 100) as bigint) as monetary_cents "
            "from features.customer_features"
        ).df()
        sql_scores = wh.con.execute("select * from segments.rfm_scores").df()
        started = time.perf_counter()
        inputs = load_inputs(wh)
        load_s = time.perf_counter() - started
    started = time.perf_counter()
    pd_features, pd_scores = run_pandas(
        inputs, as_of, cutoff, config.timezone, list(config.features.session_event_types)
    )
    pandas_s = time.perf_counter() - started
    feature_columns = [c for c in sql_features.columns if c != "as_of"]
    pd.testing.assert_frame_equal(
        _normalized(sql_features, feature_columns),
        _normalized(pd_features, feature_columns),
        check_exact=False,
        rtol=1e-9,
    )
    score_columns = list(sql_scores.columns)
    pd.testing.assert_frame_equal(
        _normalized(sql_scores, score_columns), _normalized(pd_scores, score_columns), check_exact=True
    )
    return {
        "customers": len(sql_features),
        "scored": len(sql_scores),
        "sql_s": sql_s,
        "pandas_s": pandas_s,
        "pandas_load_s": load_s,
        "ratio": pandas_s / sql_s,
        "equal": True,  # assert_frame_equal raised otherwise
    }


# How a generated CRM record is scored: its id in the ground truth.
CRM_RECORDS = """
    select
        'crm:' || source_id as unique_id,
        full_name,
        phone_norm,
        email_norm,
        birth_date,
        city,
        gender
    from core.customer_records
    where source = 'crm'
"""


def dedupe_vs_splink(config: PipelineConfig, as_of: date, data_dir: Path, threshold: float = 0.9) -> dict:
    """Our dedupe_all and a standard Splink model (DuckDB) on the same CRM records: time and pairwise F1."""
    truth = truth_from_file(data_dir / "truth" / "records.csv")
    with Warehouse.open(config) as wh:
        started = time.perf_counter()
        dedupe_all(wh, config, as_of)
        ours_s = time.perf_counter() - started
        ours = wh.frame(
            "select 'crm:' || source_id as item, customer_id as cluster from core.identity_map where source = 'crm'"
        )
        records = wh.con.execute(CRM_RECORDS).df()
    # both scored on the same items: the CRM records Splink sees that the ground truth knows
    truth = truth.filter(pl.col("item").is_in(pl.Series(records["unique_id"].tolist())))
    result = {"records": len(records), "ours_s": ours_s, "ours": pairwise_scores(ours, truth)}
    try:
        result |= _splink(records, truth, threshold)
    except Exception as exc:  # noqa: BLE001 - record exactly why Splink could not run
        result["splink_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return result


def _splink(records: pd.DataFrame, truth: pl.DataFrame, threshold: float) -> dict:
    """Train (u by random sampling, m by EM on two blockings) and predict with Splink on DuckDB; cluster."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("full_name"),
            cl.ExactMatch("phone_norm"),
            cl.EmailComparison("email_norm"),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.ExactMatch("gender"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("phone_norm"),
            block_on("email_norm"),
            block_on("full_name", "birth_date"),
            block_on("birth_date", "city"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    started = time.perf_counter()
    with duckdb.connect() as con:
        db_api = DuckDBAPI(connection=con)
        linker = Linker(db_api.register(records), settings, log_level=logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("phone_norm"), block_on("email_norm")], recall=0.8
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone_norm"))
        predictions = linker.inference.predict(threshold_match_probability=0.5)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
        frame = pl.from_pandas(clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]])
    seconds = time.perf_counter() - started
    predicted = frame.select(item="unique_id", cluster=pl.col("cluster_id").cast(pl.Utf8))
    return {
        "splink_s": seconds,
        "splink": pairwise_scores(predicted, truth),
        "splink_threshold": threshold,
        "splink_version": metadata.version("splink"),
    }
