"""The README's config examples work as written: on Online-Retail-shaped files they pass preflight and extract.

The YAML blocks are read from README.md itself, so an example that stops working fails here.
"""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.extract import SourceLoad, extract_all
from tasks.extract.preflight import preflight
from tasks.shared.config import load_config
from tasks.shared.lake import unavailable
from tasks.shared.warehouse import Warehouse
from tests.conftest import REPO

LAKE_UNAVAILABLE = unavailable() is not None  # the main environment (DuckDB 2.x)

# The public "Online Retail" export's columns; InvoiceDate month first, CustomerID as a float. Row 4
# holds a date in another layout (quarantined), StockCode 00123 has leading zeros (kept in txn_id). Row 21
# lists row 2's StockCode on its invoice again with another quantity (a line item of its own), row 22
# repeats row 1 exactly (a duplicate, dropped).
RETAIL_CSV = """\
InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,00123,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom
536365,84406B,CREAM CUPID HEARTS COAT HANGER,8,12/1/2010 8:26,2.75,17850.0,United Kingdom
536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,2010-12-01 08:34,1.69,13047.0,United Kingdom
536367,22745,POPPY'S PLAYHOUSE BEDROOM,6,12/1/2010 8:34,2.10,13047.0,United Kingdom
536367,22748,POPPY'S PLAYHOUSE KITCHEN,6,12/1/2010 8:34,2.10,13047.0,United Kingdom
536367,22749,FELTCRAFT PRINCESS CHARLOTTE DOLL,8,12/1/2010 8:34,3.75,13047.0,United Kingdom
536367,22310,IVORY KNITTED MUG COSY,6,12/1/2010 8:34,1.65,13047.0,United Kingdom
536367,84969,BOX OF 6 ASSORTED COLOUR TEASPOONS,6,12/1/2010 8:34,4.25,13047.0,United Kingdom
536367,22623,BOX OF VINTAGE JIGSAW BLOCKS,3,12/1/2010 8:34,4.95,13047.0,United Kingdom
536367,22622,BOX OF VINTAGE ALPHABET BLOCKS,2,12/1/2010 8:34,9.95,13047.0,United Kingdom
536368,22960,JAM MAKING SET WITH JARS,6,12/1/2010 8:34,4.25,13047.0,United Kingdom
536368,22913,RED COAT RACK PARIS FASHION,3,12/1/2010 8:34,4.95,13047.0,United Kingdom
536369,21756,BATH BUILDING BLOCK WORD,3,12/1/2010 8:35,5.95,13047.0,United Kingdom
536370,22728,ALARM CLOCK BAKELIKE PINK,24,12/1/2010 8:45,3.75,12583.0,France
536370,22727,ALARM CLOCK BAKELIKE RED,24,12/1/2010 8:45,3.75,12583.0,France
536370,POST,POSTAGE,3,12/1/2010 8:45,18,12583.0,France
536371,22086,PAPER CHAIN KIT 50'S CHRISTMAS,80,12/1/2010 9:00,2.55,13748.0,United Kingdom
C536379,D,Discount,-1,12/1/2010 9:41,27.50,14527.0,United Kingdom
536380,22961,JAM MAKING SET PRINTED,24,12/1/2010 9:41,1.45,17809.0,United Kingdom
536365,71053,WHITE METAL LANTERN,2,12/1/2010 8:26,3.39,17850.0,United Kingdom
536365,00123,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom
"""


def readme_yaml_blocks() -> list[str]:
    """The fenced ```yaml blocks of README.md, dedented (some sit inside a list item)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return [
        textwrap.dedent(block) for block in re.findall(r"^[ \t]*```yaml\n(.*?)^[ \t]*```", text, re.M | re.S)
    ]


def main_config() -> str:
    """The README's complete config: the yaml block with sources."""
    [block] = [b for b in readme_yaml_blocks() if "sources" in (yaml.safe_load(b) or {})]
    return block


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """base with extra's keys laid over it, mappings merged key by key."""
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def write_retail_files(folder: Path) -> None:
    """The files the README's config reads: the retail export its glob matches, the suppression list it names."""
    (folder / "data").mkdir()
    (folder / "data" / "online_retail_2010.csv").write_text(RETAIL_CSV, encoding="utf-8")
    (folder / "suppressed.txt").write_text("# never marketed to\nnobody@example.com\n", encoding="utf-8")


def test_every_yaml_block_of_the_readme_is_yaml() -> None:
    blocks = readme_yaml_blocks()
    assert len(blocks) >= 2
    assert all(isinstance(yaml.safe_load(block), dict) for block in blocks)


def test_the_readme_config_passes_preflight_and_extracts_as_documented(tmp_path: Path) -> None:
    write_retail_files(tmp_path)
    path = tmp_path / "config.yaml"
    path.write_text(main_config(), encoding="utf-8")  # as a user copies it, comments and all
    config = load_config(path)

    assert preflight(config) == []

    with Warehouse.open(config) as wh:
        assert extract_all(wh, config, "run-1") == [
            SourceLoad("shop", "transactions", 1, 1, 22, 20, 1, 1, "loaded")
        ]
        assert wh.rows(
            "select _row, txn_id, order_id, customer_ref, amount, ts, status from staging.transactions "
            "where _row in (1, 2, 17, 19, 21) order by _row"
        ) == [
            (
                1,
                "536365-00123-6-2.55",
                "536365",
                "17850",
                Decimal("15.30"),
                datetime(2010, 12, 1, 0, 26, tzinfo=UTC),
                "paid",
            ),
            (
                2,
                "536365-71053-6-3.39",
                "536365",
                "17850",
                Decimal("20.34"),
                datetime(2010, 12, 1, 0, 26, tzinfo=UTC),
                "paid",
            ),
            (
                17,
                "536370-POST-3-18",
                "536370",
                "12583",
                Decimal("54.00"),
                datetime(2010, 12, 1, 0, 45, tzinfo=UTC),
                "paid",
            ),
            (
                19,
                "C536379-D--1-27.50",
                "C536379",
                "14527",
                Decimal("-27.50"),
                datetime(2010, 12, 1, 1, 41, tzinfo=UTC),
                "cancelled",
            ),
            (
                21,
                "536365-71053-2-3.39",
                "536365",
                "17850",
                Decimal("6.78"),
                datetime(2010, 12, 1, 0, 26, tzinfo=UTC),
                "paid",
            ),
        ]
        # 15.30 + 20.34 + 22.00 + 12.60 + 12.60 + 30.00 + 9.90 + 25.50 + 14.85 + 19.90 + 25.50 + 14.85
        # + 17.85 + 90.00 + 90.00 + 54.00 + 204.00 - 27.50 + 34.80 + 6.78 (row 4 quarantined, row 22 dropped)
        assert wh.scalar("select sum(amount) from staging.transactions") == Decimal("693.27")
        assert wh.rows("select file, row_number, kept_file, kept_row_number from audit.duplicates") == [
            ("data/online_retail_2010.csv", 22, "data/online_retail_2010.csv", 1)
        ]
        assert wh.rows("select file, row_number, field, reason from audit.quarantine") == [
            (
                "data/online_retail_2010.csv",
                4,
                "ts",
                "field ts: strptime(InvoiceDate, '%m/%d/%Y %H:%M') fails for InvoiceDate '2010-12-01 08:34'",
            )
        ]


@pytest.mark.parametrize("index", range(len(readme_yaml_blocks())))
def test_each_readme_fragment_is_valid_config_with_the_example(tmp_path: Path, index: int) -> None:
    write_retail_files(tmp_path)
    data = merged(yaml.safe_load(main_config()), yaml.safe_load(readme_yaml_blocks()[index]))
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    problems = preflight(load_config(path))
    if isinstance(data["warehouse"], dict) and LAKE_UNAVAILABLE:
        # the lake example is valid, and the main environment says where it runs
        assert [(p.source, p.file, p.fix) for p in problems] == [
            ("warehouse", "ducklake", "run envs/lake/.venv/bin/segments")
        ]
    else:
        assert problems == []
