"""Tests for tasks.shared.config: YAML written to tmp_path, loaded and validated once at the edge."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from tasks.shared.config import ConfigError, PipelineConfig, load_config
from tasks.shared.expressions import check_expression, is_volatile, text_as_numbers

# A plain transactions CSV in the style of the UCI Online Retail export.
VALID: dict[str, Any] = {
    "warehouse": "w.duckdb",
    "sources": [
        {
            "name": "retail",
            "kind": "transactions",
            "format": "csv",
            "path": "retail/*.csv",
            "columns": {
                "txn_id": "InvoiceNo || '-' || StockCode",
                "order_id": "InvoiceNo",
                "customer_ref": "cast(cast(CustomerID as double) as bigint)",
                "amount": "Quantity * UnitPrice",
                "ts": "strptime(InvoiceDate, '%m/%d/%Y %H:%M')",
            },
        }
    ],
}


def write(folder: Path, data: Any, name: str = "pipeline.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def config_with(**changes: Any) -> dict[str, Any]:
    """VALID with top-level keys replaced; `source` replaces keys of the first source."""
    data = copy.deepcopy(VALID)
    for key, value in changes.pop("source", {}).items():
        data["sources"][0][key] = value
    data.update(changes)
    return data


def crm(**changes: Any) -> dict[str, Any]:
    return {
        "name": "crm",
        "kind": "customers",
        "format": "csv",
        "path": "crm.csv",
        "encoding": "gbk",
        "columns": {"source_id": '"会员编号"', "phone": '"手机"'},
        **changes,
    }


def error_lines(tmp_path: Path, data: Any) -> list[str]:
    """The problem lines of the ConfigError load_config raises, after checking the message names the file."""
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    head, *lines = str(caught.value).split("\n")
    assert head == f"{path.resolve()}: invalid config"
    return lines


def test_valid_minimal_config_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VALID))
    assert isinstance(config, PipelineConfig)
    assert config.timezone == "Asia/Shanghai"
    assert config.base_dir == tmp_path.resolve()
    assert config.warehouse_path == tmp_path.resolve() / "w.duckdb"
    assert config.exports_path == tmp_path.resolve() / "exports"
    source = config.source("retail")
    assert (source.kind, source.format, source.path, source.encoding, source.options) == (
        "transactions",
        "csv",
        "retail/*.csv",
        "utf-8",
        {},
    )
    assert source.columns == VALID["sources"][0]["columns"]
    assert (source.customer_source, source.timezone) == (None, None)
    assert config.features.session_event_types == ["session"]
    assert (config.segments.clusters, config.segments.random_state) == (4, 0)
    assert (config.dedupe.default_region, config.dedupe.max_key_records, config.dedupe.placeholders) == (
        "CN",
        20,
        [],
    )
    with pytest.raises(KeyError):
        config.source("nope")


def test_config_with_every_kind_and_customer_source_loads(tmp_path: Path) -> None:
    data = config_with(
        timezone="UTC",
        source={"customer_source": "crm"},
        sources=[
            crm(),
            {**VALID["sources"][0], "customer_source": "crm"},
            {
                "name": "social",
                "kind": "events",
                "format": "jsonl",
                "path": "social/*.jsonl",
                "timezone": "Asia/Taipei",
                "columns": {"event_id": "event_id", "customer_ref": "user.member_id", "ts": "ts"},
            },
            {
                "name": "survey",
                "kind": "feedback",
                "format": "csv",
                "path": "survey.csv",
                "encoding": "utf-8-sig",
                "columns": {"phone": '"手机"', "ts": '"提交时间"'},
            },
        ],
    )
    config = load_config(write(tmp_path, data))
    assert [(s.name, s.kind, s.customer_source, s.timezone) for s in config.sources] == [
        ("crm", "customers", None, None),
        ("retail", "transactions", "crm", None),
        ("social", "events", None, "Asia/Taipei"),
        ("survey", "feedback", None, None),
    ]
    assert config.source("crm").columns == {"source_id": '"会员编号"', "phone": '"手机"'}


def test_unknown_canonical_field(tmp_path: Path) -> None:
    columns = {**VALID["sources"][0]["columns"], "quantity": "Quantity"}
    assert error_lines(tmp_path, config_with(source={"columns": columns})) == [
        "  - line 13, sources.retail: columns ['quantity'] are not canonical fields of a transactions source; "
        "allowed: txn_id, order_id, customer_ref, email, phone, device_id, ts, amount, currency, status, "
        "category, channel"
    ]


def test_unknown_kind(tmp_path: Path) -> None:
    assert error_lines(tmp_path, config_with(source={"kind": "orders"})) == [
        "  - line 4, sources.retail.kind: Input should be 'customers', 'transactions', 'events' or 'feedback'"
    ]


def test_missing_required_field(tmp_path: Path) -> None:
    columns = {k: v for k, v in VALID["sources"][0]["columns"].items() if k != "ts"}
    assert error_lines(tmp_path, config_with(source={"columns": columns})) == [
        "  - line 7, sources.retail: a transactions source must map ['ts']"
    ]


@pytest.mark.parametrize(
    ("field", "line", "expression", "called"),
    [
        ("txn_id", 8, "InvoiceNo || '-' || random()", "random()"),
        ("ts", 12, "coalesce(strptime(InvoiceDate, '%m/%d/%Y %H:%M'), now())", "now()"),
        ("order_id", 9, "InvoiceNo || current_setting('TimeZone') || uuid()", "current_setting(), uuid()"),
        (
            "ts",
            12,
            "coalesce(strptime(InvoiceDate, '%m/%d/%Y %H:%M'), current_timestamp)",
            "current_timestamp",
        ),
    ],
)
def test_a_mapping_whose_value_changes_when_read_again_is_refused(
    tmp_path: Path, field: str, line: int, expression: str, called: str
) -> None:
    columns = {**VALID["sources"][0]["columns"], field: expression}
    assert error_lines(tmp_path, config_with(source={"columns": columns})) == [
        f"  - line {line}, sources.retail: columns.{field}: calls {called}, which gives another value when "
        "the row is read again (a restage, a rerun, the next load): a staged value must come from the row alone "
        "(a random id would count a repeated row twice)"
    ]


@pytest.mark.parametrize("stage", ["segments", "predict"])
@pytest.mark.parametrize("seed", [-1, 2**32])
def test_a_random_state_numpy_cannot_seed_is_a_config_error(tmp_path: Path, stage: str, seed: int) -> None:
    lines = error_lines(tmp_path, config_with(**{stage: {"random_state": seed}}))
    assert len(lines) == 1 and f"{stage}.random_state" in lines[0]


def test_duplicate_source_names(tmp_path: Path) -> None:
    data = config_with(sources=[crm(), VALID["sources"][0], crm(path="crm2.csv")])
    assert error_lines(tmp_path, data) == ["  - (top level): source names must be unique; repeated: ['crm']"]


def test_customer_source_must_be_a_customers_source(tmp_path: Path) -> None:
    data = config_with(
        sources=[crm(), {**VALID["sources"][0], "customer_source": "retail"}],
    )
    assert error_lines(tmp_path, data) == [
        "  - line 21: source 'retail': customer_source 'retail' is not a customers source "
        "(customers sources: ['crm'])"
    ]


def test_customer_source_must_exist(tmp_path: Path) -> None:
    data = config_with(source={"customer_source": "members"})
    assert error_lines(tmp_path, data) == [
        "  - line 13: source 'retail': customer_source 'members' is not a customers source "
        "(customers sources: [])"
    ]


def test_unknown_time_zone_of_the_pipeline(tmp_path: Path) -> None:
    assert error_lines(tmp_path, config_with(timezone="Asia/Beijing")) == [
        "  - line 13, timezone: unknown time zone 'Asia/Beijing' (use an IANA name such as Asia/Shanghai)"
    ]


def test_unknown_time_zone_of_a_source(tmp_path: Path) -> None:
    assert error_lines(tmp_path, config_with(source={"timezone": "CST"})) == [
        "  - line 13, sources.retail.timezone: unknown time zone 'CST' (use an IANA name such as Asia/Shanghai)"
    ]


def test_unknown_encoding(tmp_path: Path) -> None:
    assert error_lines(tmp_path, config_with(source={"encoding": "gbk2312"})) == [
        "  - line 13, sources.retail.encoding: unknown encoding 'gbk2312'"
    ]


@pytest.mark.parametrize("name", ["Retail", "retail-2024", "2024retail", "_retail", "r" * 64, ""])
def test_bad_source_name(tmp_path: Path, name: str) -> None:
    assert error_lines(tmp_path, config_with(source={"name": name})) == [
        f"  - line 3, sources.{name}.name: source name {name!r} must match ^[a-z][a-z0-9_]{{0,62}}$"
    ]


def test_problems_are_listed_one_per_line_with_source_names(tmp_path: Path) -> None:
    data = config_with(
        timezone="Nowhere/Place",
        sources=[crm(encoding="nope"), {**VALID["sources"][0], "format": "xls"}],
    )
    assert error_lines(tmp_path, data) == [
        "  - line 21, timezone: unknown time zone 'Nowhere/Place' (use an IANA name such as Asia/Shanghai)",
        "  - line 7, sources.crm.encoding: unknown encoding 'nope'",
        "  - line 13, sources.retail.format: Input should be 'csv', 'parquet', 'jsonl', 'xlsx' or 'postgres'",
    ]


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        (
            "1; drop table x",
            "not a valid SQL expression: '1; drop table x' "
            "(Only SELECT statements can be serialized to json!)",
        ),
        ("(select 1)", "subqueries and table access are not allowed in a mapping: '(select 1)'"),
        ("a b c", "not a valid SQL expression: 'a b c' (syntax error at or near \"c\")"),
        ("Quantity from t", "not a single expression: 'Quantity from t'"),
        ("1 union select 2", "not a single expression: '1 union select 2'"),
        ("Quantity, UnitPrice", "not a single expression: 'Quantity, UnitPrice'"),
        ("   ", "empty expression"),
    ],
)
def test_mapping_must_be_one_expression(tmp_path: Path, expression: str, problem: str) -> None:
    columns = {**VALID["sources"][0]["columns"], "amount": expression}
    assert check_expression(expression) == problem
    assert error_lines(tmp_path, config_with(source={"columns": columns})) == [
        f"  - line 11, sources.retail: columns.amount: {problem}"
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "cast(x as int)",
        "user.member_id",
        '"会员编号"',
        "cast(cast(CustomerID as double) as bigint)",
        "Quantity * UnitPrice",
        "strptime(InvoiceDate, '%m/%d/%Y %H:%M')",
        "case \"性别\" when '男' then 'M' when '女' then 'F' end",
        "'session'",
    ],
)
def test_check_expression_accepts_scalar_expressions(expression: str) -> None:
    assert check_expression(expression) is None


def test_check_expression_rejects_an_alias() -> None:
    assert (
        check_expression("amount yuan")
        == "not a single expression (an alias or a second word?): 'amount yuan'; if it names a column with a space, "
        "quote the name in double quotes and the YAML value in single quotes: '\"amount yuan\"'"
    )


def test_a_column_name_with_a_space_unquoted_is_told_how_to_quote_it() -> None:
    assert check_expression("Customer ID").endswith(": '\"Customer ID\"'")
    assert check_expression("a + b c") == "not a single expression (an alias or a second word?): 'a + b c'"


def test_check_expression_accepts_a_trailing_comment() -> None:
    # harmless: staging closes every expression on a new line
    assert check_expression("amount -- in yuan") is None


def test_events_source_needs_a_customer_reference(tmp_path: Path) -> None:
    data = config_with(
        sources=[
            {
                "name": "clicks",
                "kind": "events",
                "format": "jsonl",
                "path": "clicks.jsonl",
                "columns": {"event_id": "id", "ts": "ts", "event_type": "action"},
            }
        ]
    )
    assert error_lines(tmp_path, data) == [
        "  - line 7, sources.clicks: a events source must map customer_ref or one of ['email', 'phone', 'device_id'] "
        "to know whose rows these are"
    ]


def test_customer_source_without_customer_ref(tmp_path: Path) -> None:
    columns = {k: v for k, v in VALID["sources"][0]["columns"].items() if k != "customer_ref"}
    data = config_with(
        sources=[
            crm(),
            {**VALID["sources"][0], "columns": {**columns, "phone": "Phone"}, "customer_source": "crm"},
        ]
    )
    assert error_lines(tmp_path, data) == [
        "  - line 21, sources.retail: customer_source is set but customer_ref is not mapped"
    ]


def test_unknown_top_level_key(tmp_path: Path) -> None:
    assert error_lines(tmp_path, config_with(warehose="typo.duckdb")) == [
        "  - line 13, warehose: Extra inputs are not permitted"
    ]


def test_missing_config_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path.resolve()}: config file not found"


def test_invalid_yaml_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("warehouse: w.duckdb\nsources: [\n  - name: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path.resolve()} line 3, column 3: not valid YAML: expected the node content, but found '-'\n"
        "      - name: x\n"
        "      ^"
    )


RETAIL_YAML = """\
warehouse: w.duckdb
sources:
  - name: retail
    kind: transactions
    format: csv
    path: retail/*.csv
    columns:
      txn_id: InvoiceNo
      customer_ref: CustomerID
      amount: Quantity * UnitPrice
      ts: strptime(InvoiceDate, '%m/%d/%Y %H:%M')
"""


def load_text(tmp_path: Path, text: str) -> str:
    """The message of the ConfigError that loading text as a config raises."""
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value).replace(str(path.resolve()), "config.yaml")


def test_a_colon_in_an_unquoted_mapping_is_named_by_line(tmp_path: Path) -> None:
    text = RETAIL_YAML.replace("ts: strptime(InvoiceDate, '%m/%d/%Y %H:%M')", "ts: InvoiceDate: local")
    assert load_text(tmp_path, text) == (
        "config.yaml line 11, column 22: not valid YAML: mapping values are not allowed here; a value holding "
        "': ' needs quotes, and a key's lines under it one indent\n"
        "          ts: InvoiceDate: local\n"
        "                         ^"
    )


def test_a_tab_in_the_indent_is_named_by_line(tmp_path: Path) -> None:
    text = RETAIL_YAML.replace("      amount:", "\tamount:")
    assert load_text(tmp_path, text).splitlines()[0] == (
        "config.yaml line 10, column 1: not valid YAML: found character '\\t' that cannot start any token; "
        "indent with spaces, not tabs"
    )


def test_schema_errors_name_their_line(tmp_path: Path) -> None:
    text = RETAIL_YAML.replace("kind: transactions", "kind: transaction") + "timezone: Asia/Beijing\n"
    assert load_text(tmp_path, text) == (
        "config.yaml: invalid config\n"
        "  - line 12, timezone: unknown time zone 'Asia/Beijing' (use an IANA name such as Asia/Shanghai)\n"
        "  - line 4, sources.retail.kind: Input should be 'customers', 'transactions', 'events' or 'feedback'"
    )


def test_a_mapping_error_names_the_line_of_the_mapping(tmp_path: Path) -> None:
    text = RETAIL_YAML.replace("amount: Quantity * UnitPrice", "amount: Quantity UnitPrice")
    assert load_text(tmp_path, text) == (
        "config.yaml: invalid config\n"
        "  - line 10, sources.retail: columns.amount: not a single expression (an alias or a second word?): "
        "'Quantity UnitPrice'; if it names a column with a space, quote the name in double quotes and the YAML value in "
        "single quotes: '\"Quantity UnitPrice\"'"
    )


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        (
            "customer_ref: \"'Customer ID'\"",
            "'Customer ID' is text in single quotes, the same value on every row; a column is named in double "
            'quotes: "Customer ID" (in YAML: \'"Customer ID"\')',
        ),
        (
            "customer_ref: \"upper('guest')\"",
            "\"upper('guest')\" reads no column of the source: every row would get the same value",
        ),
        (
            "txn_id: \"'1'\"",
            "'1' is text in single quotes, the same value on every row; a column is named in double "
            'quotes: "1" (in YAML: \'"1"\')',
        ),
    ],
)
def test_a_key_mapped_to_a_constant_is_refused(tmp_path: Path, mapping: str, problem: str) -> None:
    # every row one customer (or one transaction id): the run took 116,247 rows as one customer without a word
    field = mapping.split(":")[0]
    line = next(line for line in RETAIL_YAML.splitlines() if line.strip().startswith(f"{field}:"))
    text = RETAIL_YAML.replace(line, f"      {mapping}")
    number = RETAIL_YAML.splitlines().index(line) + 1
    assert load_text(tmp_path, text) == (
        f"config.yaml: invalid config\n  - line {number}, sources.retail: columns.{field}: {problem}"
    )


def test_a_section_whose_keys_lost_their_indent_says_so(tmp_path: Path) -> None:
    # the slip users reported: the keys under segments: written at the top level
    text = RETAIL_YAML + "segments:\nclusters: 4\nrandom_state: 0\n"
    assert load_text(tmp_path, text) == (
        "config.yaml: invalid config\n"
        "  - line 12, segments: Input should be a valid dictionary or instance of SegmentConfig (it is empty "
        "here: are the lines that belong under it indented?)\n"
        "  - line 13, clusters: Extra inputs are not permitted\n"
        "  - line 14, random_state: Extra inputs are not permitted"
    )


def test_a_repeated_key_is_an_error_with_both_lines(tmp_path: Path) -> None:
    text = RETAIL_YAML + "      amount: Quantity * UnitPrice * 1.13\n"
    assert load_text(tmp_path, text) == (
        "config.yaml: invalid config\n"
        "  - line 12, sources.retail.columns.amount: repeated (first at line 10); keep one"
    )


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("just text\n", "str"), ("", "NoneType")])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path.resolve()}: expected a mapping at the top level, got {kind}"


def test_config_not_in_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(
        yaml.safe_dump(
            config_with(source={"columns": {**VALID["sources"][0]["columns"], "order_id": '"订单号"'}}),
            allow_unicode=True,
        ).encode("gbk")
    )
    with pytest.raises(ConfigError, match="gbk.yaml"):
        load_config(path)


def test_config_hash_is_stable_and_follows_content(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = load_config(write(tmp_path / "a", VALID)).config_hash()
    again = load_config(write(tmp_path / "a", VALID)).config_hash()
    elsewhere = load_config(write(tmp_path / "b", VALID)).config_hash()  # base_dir is not part of the hash
    changed_field = load_config(
        write(
            tmp_path / "a",
            config_with(
                source={"columns": {**VALID["sources"][0]["columns"], "amount": "Quantity * UnitPrice * 100"}}
            ),
        )
    ).config_hash()
    changed_setting = load_config(write(tmp_path / "a", config_with(segments={"clusters": 5}))).config_hash()
    assert len(first) == 16
    assert int(first, 16) >= 0
    assert first == again == elsewhere
    assert len({first, changed_field, changed_setting}) == 3


def test_cutoff_is_next_midnight_in_the_config_time_zone(tmp_path: Path) -> None:
    shanghai = load_config(write(tmp_path, VALID))
    cutoff = shanghai.cutoff(date(2026, 1, 31))
    assert cutoff == datetime(2026, 2, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert cutoff.isoformat() == "2026-02-01T00:00:00+08:00"
    assert cutoff.utcoffset() == timedelta(hours=8)

    new_york = load_config(write(tmp_path, config_with(timezone="America/New_York")))
    assert new_york.cutoff(date(2026, 3, 7)).isoformat() == "2026-03-08T00:00:00-05:00"
    assert (
        new_york.cutoff(date(2026, 3, 8)).isoformat() == "2026-03-09T00:00:00-04:00"
    )  # after the DST change


TEXT = {"Quantity", "UnitPrice", "InvoiceNo", "StockCode", "数量", '单"价', "Code"}


@pytest.mark.parametrize(
    ("expression", "evaluated"),
    [
        ("Quantity * UnitPrice", "cast(Quantity as double) * cast(UnitPrice as double)"),
        (
            "quantity*unitprice",
            "cast(quantity as double)*cast(unitprice as double)",
        ),  # DuckDB: case-insensitive
        ('"数量" * 2.5', 'cast("数量" as double) * 2.5'),
        ("数量 * -1.5 + Quantity", "cast(数量 as double) * -1.5 + cast(Quantity as double)"),
        ('"单""价" * 2', 'cast("单""价" as double) * 2'),  # a quote inside a quoted name
        ("-Quantity", "-cast(Quantity as double)"),
        (
            "case when Quantity < 0 then 'cancelled' else 'paid' end",
            "case when try_cast(Quantity as double) < 0 then 'cancelled' else 'paid' end",
        ),
        ("Quantity between 1 and 5", "try_cast(Quantity as double) between 1 and 5"),
        # a comparison reads a text that is no number as not equal, so the text branch can match
        (
            "case when Code = 1 or Code = 'A' then 'a' end",
            "case when try_cast(Code as double) = 1 or Code = 'A' then 'a' end",
        ),
        # text stays text: ids, concatenation, comparisons with text, explicit casts, other columns
        ("InvoiceNo || '-' || StockCode", "InvoiceNo || '-' || StockCode"),
        ("InvoiceNo = '00123'", "InvoiceNo = '00123'"),
        ("cast(Quantity as integer) * 2", "cast(Quantity as integer) * 2"),
        ("amount * 100", "amount * 100"),
        ("strptime(InvoiceDate, '%m/%d/%Y %H:%M')", "strptime(InvoiceDate, '%m/%d/%Y %H:%M')"),
    ],
)
def test_text_columns_are_numbers_in_arithmetic_and_comparisons_with_a_number(
    expression: str, evaluated: str
) -> None:
    assert text_as_numbers(expression, TEXT) == evaluated


def test_volatile_expressions_are_known() -> None:
    assert is_volatile("uuid()") and is_volatile("InvoiceNo || random()")
    assert not is_volatile("strptime(InvoiceDate, '%m/%d/%Y %H:%M')")


VIP_RULE = {"name": "vip", "label_en": "VIP", "label_zh": "贵宾", "when": "value_tier = 'high'"}


def test_an_audience_of_a_rule_the_config_does_not_define_is_a_config_error(tmp_path: Path) -> None:
    # segments.rules replaces the defaults: without churn_warning, the default audience churn_rescue had no members
    assert error_lines(tmp_path, config_with(segments={"rules": [VIP_RULE]})) == [
        "  - (top level): act: default audience 'churn_rescue' names 'rules:churn_warning', but segments.rules has "
        "no rule 'churn_warning' (it has: vip): setting segments.rules replaces the default rules; list the ones kept"
    ]
    seed = {"name": "fans", "label_en": "Fans", "label_zh": "粉丝", "seed": "rules:fans"}
    assert error_lines(tmp_path, config_with(act={"lookalikes": [seed], "audiences": []})) == [
        "  - (top level): act: lookalike 'fans' (its seed) names 'rules:fans', but segments.rules has no rule 'fans' "
        "(it has: high_frequency_players, high_intent_not_paying, churn_warning): setting segments.rules replaces "
        "the default rules; list the ones kept"
    ]
    # the act stage off, or the rule listed with the user's own: nothing to check, or found
    load_config(write(tmp_path, config_with(segments={"rules": [VIP_RULE]}, act={"enabled": False})))
    kept = {**VIP_RULE, "name": "churn_warning"}
    load_config(write(tmp_path, config_with(segments={"rules": [VIP_RULE, kept]})))


def test_an_rfm_name_that_is_no_segment_of_its_scheme_is_found_before_a_run(tmp_path: Path) -> None:
    from tasks.shared.rfm_names import unknown_rfm_segments

    audiences = [
        {"name": name, "label_en": name, "label_zh": name, "segment": segment}
        for name, segment in (
            ("a", "rfm:At Risk"),
            ("b", "rfm:At Rsk"),
            ("c", "rfm_cn:重要挽留客户"),
            ("d", "rfm_cn:重要挽留"),
        )
    ]
    config = load_config(write(tmp_path, config_with(act={"audiences": audiences})))
    problems = unknown_rfm_segments(config)
    assert [problem.split(" (it has: ")[0] for problem in problems] == [
        "act: audience 'b' names 'rfm:At Rsk', but rfm has no segment 'At Rsk'",
        "act: audience 'd' names 'rfm_cn:重要挽留', but rfm_cn has no segment '重要挽留'",
    ]
    assert problems[0].endswith("Hibernating, Lost, No Purchase)")


POSTGRES = {
    "name": "members",
    "kind": "customers",
    "format": "postgres",
    "connection": {"dsn_env": "MEMBERS_DSN"},
    "columns": {"source_id": "id"},
}


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        (
            "selct id from members",
            "query must be one SELECT statement (select … or with …); it begins with 'selct'",
        ),
        (
            "update members set id = 1",
            "query must be one SELECT statement (select … or with …); it begins with 'update'",
        ),
        (
            "select 1; drop table members",
            "query must be one SELECT statement: it has a ';' before its end (one ';' at the end is allowed)",
        ),
    ],
)
def test_a_database_query_that_is_not_one_select_says_why(tmp_path: Path, query: str, problem: str) -> None:
    [line] = error_lines(tmp_path, config_with(sources=[{**POSTGRES, "query": query}]))
    assert line == f"  - line 10, sources.members: {problem}"  # the query's line


def test_a_database_query_may_end_with_one_semicolon(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, config_with(sources=[{**POSTGRES, "query": "select id from members;\n"}]))
    )
    assert config.sources[0].query == "select id from members"
