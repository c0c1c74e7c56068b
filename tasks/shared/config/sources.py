"""Config of the source systems: where their files or tables are, how to read them, how their columns map."""

import re
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tasks.shared.config.checks import ConfigError, check_name, check_timezone
from tasks.shared.contracts import (
    CANONICAL_FIELDS,
    IDENTIFIER_FIELDS,
    MAX_AMOUNT_SCALE,
    REQUIRED_FIELDS,
    RESERVED_MATCH_NAMES,
    SourceKind,
)
from tasks.shared.expressions import (
    LOAD_KEYWORDS,
    check_expression,
    expression_columns,
    is_volatile,
    unrepeatable_functions,
)

SourceFormat = Literal["csv", "parquet", "jsonl", "xlsx", "postgres"]


FILE_FORMATS = ("csv", "parquet", "jsonl", "xlsx")


# Fields that say which row or whose it is: a mapping of one that reads no column gives every row the same value
# (every row one customer, or one id), never what a config means
KEY_FIELDS = frozenset(
    {"source_id", "txn_id", "event_id", "feedback_id", "customer_ref", "order_id", "national_id"}
)
KEY_FIELDS |= frozenset(IDENTIFIER_FIELDS)
QUOTED_TEXT = re.compile(r"^\s*'((?:[^']|'')*)'\s*$")


def constant_key(expression: str) -> str:
    """Why a key field's mapping that reads no column is refused, with the likely fix."""
    quoted = QUOTED_TEXT.match(expression)
    if quoted:
        name = quoted.group(1).replace("''", "'")
        return (
            f"{expression.strip()} is text in single quotes, the same value on every row; a column is named in "
            f'double quotes: "{name}" (in YAML: \'"{name}"\')'
        )
    return f"{expression!r} reads no column of the source: every row would get the same value"


def sheet_option_problem(options: dict[str, Any]) -> str | None:
    """What is wrong with an xlsx source's sheet options, whatever its workbooks hold (None: nothing). Which
    sheets a workbook has is the reader's to check (tasks/extract/excel.py)."""
    name, number = options.get("sheet_name"), options.get("sheet_id")
    if name is not None and number is not None:
        return "options: sheet_name and sheet_id both given; keep one"
    if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 1):
        return (
            f"options.sheet_id must be a whole number from 1 (the first sheet), not {number!r}; to read every "
            "sheet, set sheet_name: '*'"
        )
    if name is not None and not isinstance(name, str):
        return (
            f"options.sheet_name {name!r} is not text: quote it (sheet_name: '{name}'), or give the sheet's "
            "number as sheet_id"
        )
    return None


PG_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


class ConnectionConfig(BaseModel):
    """Where a database source's credentials come from: never the config file itself."""

    model_config = ConfigDict(extra="forbid")

    dsn_env: str | None = Field(
        default=None,
        description="Environment variable holding the connection URI (postgresql://user:pw@host/db).",
    )
    secret_block: str | None = Field(
        default=None, description="Name of a Prefect Secret block holding the connection URI."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> "ConnectionConfig":
        if (self.dsn_env is None) == (self.secret_block is None):
            raise ValueError(
                "give exactly one of dsn_env (an environment variable) or secret_block (a Prefect Secret)"
            )
        return self

    def dsn(self, source: str, *, owner: str | None = None) -> str:
        """The connection URI, read now from the environment or the Prefect Secret block.

        owner: what needs it, for messages (default: source <source>).
        """
        import os

        owner = owner or f"source {source!r}"
        if self.dsn_env is not None:
            value = os.environ.get(self.dsn_env)
            if not value:
                raise ConfigError(f"{owner}: environment variable {self.dsn_env} is not set")
            return value
        from prefect.blocks.system import Secret

        try:
            return Secret.load(self.secret_block).get()
        except ValueError as exc:
            raise ConfigError(
                f"{owner}: cannot load Prefect Secret block {self.secret_block!r}: {exc}"
            ) from None


class SourceConfig(BaseModel):
    """One source system: where its files are, how to read them, how its columns map to canonical fields."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Short lowercase name, used for raw.<name> and lineage (a-z, 0-9, _).")
    kind: SourceKind = Field(description="What one row is: customers, transactions, events or feedback.")
    format: SourceFormat = Field(
        description="csv, parquet, jsonl, xlsx (files) or postgres (a table or query)."
    )
    path: str | None = Field(
        default=None,
        description="Glob of the source files, relative to the config file's folder (file formats).",
    )
    connection: ConnectionConfig | None = Field(default=None, description="Credentials of a database source.")
    table: str | None = Field(default=None, description="Database table (schema.table) of a database source.")
    query: str | None = Field(
        default=None, description="A SELECT run in the source database, instead of table."
    )
    watermark: str | None = Field(
        default=None,
        description="Column of a database source that grows with every change (updated_at): each run loads "
        "only rows past the highest value already loaded, and a row with a known id replaces the old one.",
    )
    max_bad_row_share: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="If a load quarantines a larger share of its rows, the run fails before anything is published.",
    )
    encoding: str = Field(
        default="utf-8",
        description="Text encoding of csv files (utf-8, gbk/gb18030, big5, ...). A BOM is stripped.",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra reader options passed to DuckDB's reader, e.g. {delim: ';'} for csv.",
    )
    columns: dict[str, str] = Field(
        description="Canonical field -> DuckDB SQL expression over the source's own columns.",
    )
    match_columns: dict[str, str] = Field(
        default_factory=dict,
        description="Customers sources: extra attributes the matcher may compare (dedupe.comparisons), name -> "
        "DuckDB SQL expression over the source's own columns, e.g. {occupation: occupation, amount: amount}. "
        "Read from the raw rows at matching time; not staged as canonical fields.",
    )
    where: str | None = Field(
        default=None,
        description="Which of the source's rows to stage: a DuckDB SQL condition over its own columns, as a "
        "mapping is (e.g. \"Customer ID\" is not null, or Country = 'United Kingdom'). A row it is not true "
        "of (false or null) stays in raw, is not checked or staged, and is counted as filtered "
        "(rows_filtered in audit.load_audit and audit.extract_log, and the run summary). Default: every row.",
    )
    customer_source: str | None = Field(
        default=None,
        description="Name of the customers source that customer_ref points into. Without it, each "
        "distinct customer_ref is a customer of its own (merged by identifiers where they match).",
    )
    timezone: str | None = Field(
        default=None,
        description="Time zone of timestamps written without an offset or zone in this source, whatever "
        "their layout (2026-03-01 23:30, 2026/03/01 23:30:00, a strptime result); defaults to the pipeline's "
        "timezone.",
    )
    read_in_place: bool = Field(
        default=False,
        description="Parquet sources whose files are written once and never changed (daily drops): raw reads "
        "them where they are instead of copying their rows into the warehouse. A file found changed is read "
        "again; one rewritten in place shows its new rows in raw until the next run.",
    )
    amount_scale: int | None = Field(
        default=None,
        ge=0,
        le=MAX_AMOUNT_SCALE,
        description="Transactions: the most decimals an amount may have (2: cents). An amount with more is "
        "quarantined, never rounded. Defaults to the pipeline's amount_scale.",
    )
    max_amount: Decimal | None = Field(
        default=None,
        gt=0,
        description="Transactions: the largest amount, either sign, in the source's own currency units, that "
        "can be real (a recharge limit, say); a row with a larger one is quarantined. Without it, amounts over "
        "1,000 times the source's median are staged and a warning names them.",
    )

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        return check_name(value, "source name")

    @field_validator("query")
    @classmethod
    def _one_ending_semicolon_dropped(cls, value: str | None) -> str | None:
        """A query pasted from a SQL console ends with ';': the source reads it as a subquery, without it."""
        return None if value is None else value.strip().removesuffix(";").rstrip()

    @field_validator("where")
    @classmethod
    def _where_is_one_condition_on_the_row(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problem = check_expression(value)
        if problem:
            raise ValueError(problem)
        if is_volatile(value):  # staging and its counts evaluate it apart: they must agree
            raise ValueError(
                "a condition that gives another answer each time (random(), uuid() …) cannot say which rows to stage"
            )
        if not expression_columns(value):
            quoted = re.search(r"'((?:[^']|'')+)'", value)
            hint = (
                f'; a column is named in double quotes: "{quoted.group(1)}", single quotes make text'
                if quoted
                else ""
            )
            raise ValueError(f"{value!r} reads no column of the source: it is the same for every row{hint}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @model_validator(mode="after")
    def _location_fits_format(self) -> "SourceConfig":
        if self.format in FILE_FORMATS:
            if not self.path:
                raise ValueError(f"a {self.format} source needs path (a glob of its files)")
            if self.connection or self.table or self.query or self.watermark:
                raise ValueError("connection, table, query and watermark are for database sources only")
            if self.read_in_place and self.format != "parquet":
                raise ValueError("read_in_place is for parquet sources (typed, columnar files) only")
            if self.format == "xlsx" and (problem := sheet_option_problem(self.options)):
                raise ValueError(problem)
        else:
            if self.connection is None:
                raise ValueError("a postgres source needs connection: {dsn_env: VAR} or {secret_block: NAME}")
            if (self.table is None) == (self.query is None):
                raise ValueError("a postgres source needs exactly one of table or query")
            if self.table is not None and not PG_IDENTIFIER.match(self.table):
                raise ValueError(f"table {self.table!r} must be a plain name or schema.name")
            if self.watermark is not None and not PG_IDENTIFIER.match(self.watermark):
                raise ValueError(f"watermark {self.watermark!r} must be a plain column name")
            if self.query is not None and (problem := query_problem(self.query)):
                raise ValueError(problem)
        return self

    def referenced_columns(self) -> set[str]:
        """The source's own columns that the mapping, match_columns and where expressions read (top-level names)."""
        expressions = [*self.columns.values(), *self.match_columns.values(), *filter(None, [self.where])]
        return set().union(*(expression_columns(e) for e in expressions))

    @model_validator(mode="after")
    def _columns_fit_kind(self) -> "SourceConfig":
        allowed = CANONICAL_FIELDS[self.kind]
        unknown = sorted(set(self.columns) - set(allowed))
        if unknown:
            raise ValueError(
                f"columns {unknown} are not canonical fields of a {self.kind} source; "
                f"allowed: {', '.join(allowed)}"
            )
        missing = [f for f in REQUIRED_FIELDS[self.kind] if f not in self.columns]
        if missing:
            raise ValueError(f"a {self.kind} source must map {missing}")
        if self.kind != "customers" and not (
            "customer_ref" in self.columns or any(f in self.columns for f in IDENTIFIER_FIELDS)
        ):
            raise ValueError(
                f"a {self.kind} source must map customer_ref or one of {list(IDENTIFIER_FIELDS)} "
                "to know whose rows these are"
            )
        if self.customer_source is not None and "customer_ref" not in self.columns:
            raise ValueError("customer_source is set but customer_ref is not mapped")
        if self.amount_scale is not None and self.kind != "transactions":
            raise ValueError("amount_scale is for transactions sources (their amount)")
        if self.max_amount is not None and self.kind != "transactions":
            raise ValueError("max_amount is for transactions sources (their amount)")
        for field, expression in self.columns.items():
            problem = check_expression(expression)
            if problem:
                raise ValueError(f"columns.{field}: {problem}")
            if field in KEY_FIELDS and not expression_columns(expression):
                raise ValueError(f"columns.{field}: {constant_key(expression)}")
            if unrepeatable := unrepeatable_functions(expression):
                raise ValueError(f"columns.{field}: {unrepeatable_message(unrepeatable)}")
        if self.match_columns and self.kind != "customers":
            raise ValueError("match_columns are for customers sources (the records the matcher compares)")
        for name, expression in self.match_columns.items():
            check_name(name, "match column name")
            if name in CANONICAL_FIELDS["customers"]:
                raise ValueError(f"match_columns.{name}: {name} is a canonical field; map it under columns")
            if name in RESERVED_MATCH_NAMES:
                raise ValueError(
                    f"match_columns.{name}: {name} is a name the matcher uses itself; call it otherwise"
                )
            problem = check_expression(expression)
            if problem:
                raise ValueError(f"match_columns.{name}: {problem}")
            if unrepeatable := unrepeatable_functions(expression):
                raise ValueError(f"match_columns.{name}: {unrepeatable_message(unrepeatable)}")
        return self


def unrepeatable_message(functions: list[str]) -> str:
    """Why a mapping that calls functions (random, now …) is refused."""
    called = ", ".join(name if name in LOAD_KEYWORDS else f"{name}()" for name in functions)
    return (
        f"calls {called}, which gives another value when the row is read again (a restage, a rerun, the next "
        "load): a staged value must come from the row alone (a random id would count a repeated row twice)"
    )


def query_problem(query: str) -> str | None:
    """Why a database source's query cannot be read as one SELECT (it becomes a subquery of the read), or None."""
    first = (query.split() or [""])[0]
    if first.lower() not in ("select", "with"):
        return f"query must be one SELECT statement (select … or with …); it begins with {first!r}"
    if ";" in query:
        return (
            "query must be one SELECT statement: it has a ';' before its end (one ';' at the end is allowed)"
        )
    return None
