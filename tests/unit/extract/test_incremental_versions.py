"""Customer records are versions: every version is kept, ordered by when it was made, never by when it arrived."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tasks.dedupe import dedupe_all
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.sources import extract_once, write_config

CRM = {
    "name": "crm",
    "kind": "customers",
    "format": "csv",
    "path": "crm/*.csv",
    "columns": {
        "source_id": "id",
        "email": "email",
        "signup_ts": "signup",
        "updated_at": "updated",
        "marketing_consent": "consent = 'yes'",
    },
}
HEADER = "id,email,signup,updated,consent\n"
JANUARY = "M1,jan@x.com,2026-01-01 09:00:00,2026-01-05 10:00:00,yes\n"
MARCH = "M1,mar@x.com,2026-01-01 09:00:00,2026-03-05 10:00:00,no\n"
JAN5, MAR5 = datetime(2026, 1, 5, 2, tzinfo=UTC), datetime(2026, 3, 5, 2, tzinfo=UTC)


def write(folder: Path, name: str, text: str) -> None:
    (folder / "crm").mkdir(exist_ok=True)
    (folder / "crm" / name).write_text(HEADER + text, encoding="utf-8")


def versions(config: Path) -> list[tuple]:
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return wh.rows(
            "select email, _file, valid_from, valid_to from staging.customers where source_id = 'M1' "
            "order by valid_from"
        )


def current_email(config: Path) -> str:
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return wh.scalar("select email from staging.customers where source_id = 'M1' and valid_to is null")


@pytest.mark.parametrize("runs", ["one run", "march first", "january first"])
def test_an_older_version_never_replaces_a_newer_one(tmp_path: Path, runs: str) -> None:
    config = write_config(tmp_path, [CRM])
    if runs == "january first":
        write(tmp_path, "crm-01.csv", JANUARY)
        extract_once(config, "run-1")
    # March's export arrives before January's (a late file, or a backfill of old exports)
    write(tmp_path, "crm-03.csv", MARCH)
    if runs == "march first":
        extract_once(config, "run-1")
    write(tmp_path, "crm-01.csv", JANUARY)
    extract_once(config, "run-2")
    # the e-mail updated in March went back to January's when January's file arrived later
    assert current_email(config) == "mar@x.com"
    assert versions(config) == [
        ("jan@x.com", "crm/crm-01.csv", JAN5, MAR5),
        ("mar@x.com", "crm/crm-03.csv", MAR5, None),
    ]


def test_a_copy_of_a_version_is_a_duplicate_of_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, [CRM])
    write(tmp_path, "crm-01.csv", JANUARY)
    write(tmp_path, "crm-03.csv", MARCH)
    extract_once(config, "run-1")
    # a later export repeats January's version (say, restored from a backup): dropped as its copy
    write(tmp_path, "crm-04.csv", JANUARY + MARCH)
    load = extract_once(config, "run-2")[0]
    assert (load.rows_read, load.rows_staged, load.duplicates_dropped) == (2, 0, 2)
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows(
            "select file, row_number, kept_file, kept_row_number from audit.duplicates order by 2"
        ) == [
            ("crm/crm-04.csv", 1, "crm/crm-01.csv", 1),
            ("crm/crm-04.csv", 2, "crm/crm-03.csv", 1),
        ]
    assert current_email(config) == "mar@x.com"


def test_a_record_changed_back_is_a_version_of_its_own(tmp_path: Path) -> None:
    config = write_config(tmp_path, [CRM])
    write(tmp_path, "crm-01.csv", JANUARY)
    write(tmp_path, "crm-03.csv", MARCH)
    write(
        tmp_path, "crm-05.csv", JANUARY.replace("2026-01-05", "2026-05-05")
    )  # January's values again, in May
    extract_once(config, "run-1")
    assert [(email, valid_to is None) for email, _, _, valid_to in versions(config)] == [
        ("jan@x.com", False),
        ("mar@x.com", False),
        ("jan@x.com", True),
    ]


def test_removing_the_file_of_a_version_joins_its_neighbours(tmp_path: Path) -> None:
    config = write_config(tmp_path, [CRM])
    write(tmp_path, "crm-01.csv", JANUARY)
    write(tmp_path, "crm-03.csv", MARCH)
    extract_once(config, "run-1")
    (tmp_path / "crm" / "crm-03.csv").unlink()
    extract_once(config, "run-2")
    assert versions(config) == [("jan@x.com", "crm/crm-01.csv", JAN5, None)]


# January's version again, consent withdrawn, with the same updated_at: which of the two holds is unknown
JANUARY_NO_CONSENT = "M1,jan@x.com,2026-01-01 09:00:00,2026-01-05 10:00:00,no\n"


def quarantined(config: Path) -> list[tuple]:
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return wh.rows("select file, row_number, reason from audit.quarantine order by file, row_number")


@pytest.mark.parametrize("runs", ["one run", "two runs"])
def test_a_version_with_the_same_updated_at_and_other_values_is_a_conflict(tmp_path: Path, runs: str) -> None:
    config = write_config(tmp_path, [CRM | {"max_bad_row_share": 1.0}])
    write(tmp_path, "crm-01.csv", JANUARY)
    if runs == "two runs":
        extract_once(config, "run-1")
    write(tmp_path, "crm-02.csv", JANUARY_NO_CONSENT + MARCH)
    load = extract_once(config, "run-2")[-1]
    assert (load.rows_quarantined, load.duplicates_dropped) == (1, 0)
    assert quarantined(config) == [
        (
            "crm/crm-02.csv",
            1,
            "duplicate source_id 'M1' at the same updated_at with other values than crm/crm-01.csv row 1",
        )
    ]
    assert versions(config) == [
        ("jan@x.com", "crm/crm-01.csv", JAN5, MAR5),
        ("mar@x.com", "crm/crm-02.csv", MAR5, None),
    ]
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select marketing_consent from staging.customers order by valid_from") == [
            (True,),
            (False,),
        ]
    # the kept version's file removed: the quarantined row is checked again and becomes January's version
    (tmp_path / "crm" / "crm-01.csv").unlink()
    extract_once(config, "run-3")
    assert quarantined(config) == []
    assert versions(config) == [
        ("jan@x.com", "crm/crm-02.csv", JAN5, MAR5),
        ("mar@x.com", "crm/crm-02.csv", MAR5, None),
    ]


def test_a_version_with_the_same_updated_at_and_the_same_values_is_a_copy(tmp_path: Path) -> None:
    config = write_config(tmp_path, [CRM])
    write(tmp_path, "crm-01.csv", JANUARY)
    write(tmp_path, "crm-02.csv", MARCH + JANUARY)
    load = extract_once(config, "run-1")[-1]
    assert (load.rows_staged, load.rows_quarantined, load.duplicates_dropped) == (2, 0, 1)
    assert quarantined(config) == []


def test_without_updated_at_a_tie_of_load_times_keeps_both_versions(tmp_path: Path) -> None:
    """A first load's files are versions of one moment, in file-name order (no time says otherwise)."""
    columns = {key: value for key, value in CRM["columns"].items() if key != "updated_at"}
    config = write_config(tmp_path, [CRM | {"columns": columns}])
    write(tmp_path, "crm-01.csv", JANUARY)
    write(tmp_path, "crm-02.csv", JANUARY_NO_CONSENT)
    load = extract_once(config, "run-1")[-1]
    assert (load.rows_staged, load.rows_quarantined) == (2, 0)
    assert current_email(config) == "jan@x.com"
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select _file, marketing_consent from staging.customers where valid_to is null") == [
            ("crm/crm-02.csv", False)
        ]


def test_without_updated_at_versions_follow_the_load_time(tmp_path: Path) -> None:
    columns = {key: value for key, value in CRM["columns"].items() if key != "updated_at"}
    config = write_config(tmp_path, [CRM | {"columns": columns}])
    write(tmp_path, "crm-01.csv", JANUARY)
    extract_once(config, "run-1")
    write(tmp_path, "crm-03.csv", MARCH)
    extract_once(config, "run-2")
    write(tmp_path, "crm-05.csv", JANUARY)  # back to January's values: a version, newer than March's
    extract_once(config, "run-3")
    write(tmp_path, "crm-06.csv", JANUARY)  # the same again: a copy of the version before it
    assert extract_once(config, "run-4")[0].duplicates_dropped == 1
    with Warehouse.open(load_config(config), read_only=True) as wh:
        loaded = dict(wh.rows("select _file, min(_loaded_at) from raw.crm group by 1"))
        assert wh.rows(
            "select email, _file, valid_from, valid_to from staging.customers order by valid_from"
        ) == [
            ("jan@x.com", "crm/crm-01.csv", loaded["crm/crm-01.csv"], loaded["crm/crm-03.csv"]),
            ("mar@x.com", "crm/crm-03.csv", loaded["crm/crm-03.csv"], loaded["crm/crm-05.csv"]),
            ("jan@x.com", "crm/crm-05.csv", loaded["crm/crm-05.csv"], None),
        ]


@pytest.mark.parametrize("runs", ["one run", "march first"])
def test_a_run_as_of_a_day_uses_the_version_valid_that_day(tmp_path: Path, runs: str) -> None:
    config_path = write_config(tmp_path, [CRM])
    write(tmp_path, "crm-03.csv", MARCH)
    if runs == "march first":
        extract_once(config_path, "run-1")
    write(tmp_path, "crm-01.csv", JANUARY)
    extract_once(config_path, "run-2")
    config = load_config(config_path)

    def golden(as_of: date) -> tuple:
        with Warehouse.open(config) as wh:
            dedupe_all(wh, config, as_of)
            return wh.rows("select email, marketing_consent from core.customers")[0]

    # a run as of February published March's e-mail and consent
    assert golden(date(2026, 2, 15)) == ("jan@x.com", True)
    assert golden(date(2026, 4, 1)) == ("mar@x.com", False)
    assert golden(date(2026, 3, 4)) == ("jan@x.com", True)  # the day before the update
    assert golden(date(2026, 3, 5)) == ("mar@x.com", False)  # updated at 10:00 that day
