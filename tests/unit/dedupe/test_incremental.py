"""The stored matcher model and the incremental matcher: day after day, results equal a run from scratch."""

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sampledata.generate import generate
from tasks.dedupe import DedupeResult, dedupe_all
from tasks.dedupe.incremental import STATE_TABLES
from tasks.dedupe.model import MODEL_VERSION, StoredModel, refit_reason
from tasks.dedupe.observations import STATE_TABLES as OBSERVATION_TABLES
from tasks.extract import extract_all
from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.warehouse import Warehouse
from tests.backend import copy_warehouse
from tests.conftest import write_config

END = date(2026, 11, 22)
DAYS = [date(2026, 11, 15) + timedelta(days=i) for i in range(6)]
ZONE = ZoneInfo("Asia/Shanghai")


# --- the refit schedule ---------------------------------------------------------------------------------

FIT = StoredModel(settings_hash="s", fitted_as_of=date(2026, 11, 10), records=1000)


def reason(stored: StoredModel | None = FIT, **overrides: object) -> str | None:
    """refit_reason with the defaults of the config (7 days, 20%) and 1000 records on 2026-11-12."""
    arguments = {
        "settings": "s",
        "as_of": date(2026, 11, 12),
        "records": 1000,
        "every_days": 7,
        "drift": 0.2,
        "requested": False,
    } | overrides
    return refit_reason(stored, **arguments)  # type: ignore[arg-type]


def test_the_stored_model_serves_until_a_refit_is_due() -> None:
    assert reason() is None
    assert reason(as_of=date(2026, 11, 16)) is None  # 6 days after the fit
    assert "7 days" in reason(as_of=date(2026, 11, 17))  # 7 days: due
    assert reason(requested=True) == "refit requested"
    assert reason(None) == "no fitted model stored"
    assert "settings" in reason(settings="t")
    assert "older code" in reason(StoredModel("s", date(2026, 11, 10), 1000, MODEL_VERSION - 1))


def test_a_backfill_before_the_fit_day_refits() -> None:
    # point in time: a model fitted as of a later day holds records from after as_of
    assert "later day" in reason(as_of=date(2026, 11, 9))
    assert "later day" in reason(as_of=date(2026, 10, 1))
    assert reason(as_of=date(2026, 11, 10)) is None  # the fit day itself


def test_records_drifting_from_the_fit_refit() -> None:
    assert reason(records=1200) is None  # 20%: not more than the drift
    assert "drifted" in reason(records=1201)
    assert "drifted" in reason(records=799)
    assert reason(records=800) is None


# --- day after day ----------------------------------------------------------------------------------------


def noon(day: date) -> datetime:
    """Midday of a day in the pipeline's time zone (before the day's cutoff)."""
    return datetime.combine(day, time(12), ZONE)


def add_crm(wh: Warehouse, source_id: str, like: str, at: datetime, **changes: object) -> None:
    """A new CRM record: a copy of record `like`'s current version, signed up at `at`, with changes."""
    columns = [c for c in wh.columns("staging.customers")]
    values = {
        "source_id": source_id,
        "signup_ts": at,
        "updated_at": at,
        "valid_from": at,
        "_file": "test",
    } | changes
    select = ", ".join(f"${c} as {c}" if c in values else c for c in columns)
    params = {c: values[c] for c in columns if c in values} | {"like": like}
    wh.execute(
        f"insert into staging.customers select {select} from staging.customers "
        "where source = 'crm' and source_id = $like and valid_to is null",
        params,
    )


def change_crm(wh: Warehouse, source_id: str, at: datetime, **changes: object) -> None:
    """A new version of a CRM record from `at` on (as tasks/extract keeps versions), with changes."""
    columns = [c for c in wh.columns("staging.customers")]
    values = {"updated_at": at, "valid_from": at, "_file": "test-version"} | changes
    select = ", ".join(f"${c} as {c}" if c in values else c for c in columns)
    params = {c: values[c] for c in columns if c in values} | {"id": source_id}
    wh.execute(
        f"insert into staging.customers select {select} from staging.customers "
        "where source = 'crm' and source_id = $id and valid_to is null",
        params,
    )
    wh.execute(
        "update staging.customers set valid_to = $at where source = 'crm' and source_id = $id "
        "and valid_to is null and valid_from < $at",
        {"at": at, "id": source_id},
    )


def erase(wh: Warehouse, source_id: str) -> None:
    """Erasure: every staged version of a CRM record deleted."""
    wh.execute("delete from staging.customers where source = 'crm' and source_id = $id", {"id": source_id})


def late_payment(wh: Warehouse, txn_id: str, phone: str, email: str, at: datetime) -> None:
    """A payment row loaded today but timestamped on an earlier day, paid with these phone and e-mail."""
    wh.execute(
        "insert into staging.transactions select * replace ($txn as txn_id, null as customer_ref, $phone as phone, "
        "$email as email, $at as ts, 'test-late' as _file) from staging.transactions limit 1",
        {"txn": txn_id, "phone": phone, "email": email, "at": at},
    )


def crm_value(wh: Warehouse, source_id: str, column: str) -> object:
    """A column of a CRM record's current version."""
    assert column in wh.columns("staging.customers")
    return wh.scalar(
        f"select {column} from staging.customers where source = 'crm' and source_id = $id and valid_to is null",
        {"id": source_id},
    )


def mutate(wh: Warehouse, day: date, people: list[str]) -> None:
    """The day's new, changed, late, merging and erased records (staging changed as extract would)."""
    at = noon(day)
    a, b, c, d, e, f = people[:6]
    if day == DAYS[1]:
        # changed records: a moved house, b's name corrected
        change_crm(wh, a, at, address="上海市浦东新区世纪大道100号", city="上海")
        change_crm(wh, b, at, full_name=str(crm_value(wh, b, "full_name")) + "明")
        # duplicates with a new phone and e-mail: only the probabilistic matcher can link them
        for n, like in enumerate((c, d)):
            add_crm(wh, f"T-dup{n}", like, at, email=None, phone=None, device_id=None)
        # e's spouse: e's surname, home and birth date, a phone one digit from e's, another given name and sex
        add_crm(wh, "T-spouse", e, at, **spouse_of(wh, e), email=None, device_id=None)
    elif day == DAYS[2]:
        # seven more records with c's name and birth date: the blocks of c and its duplicate grow past
        # max_block_size, and the link between them goes
        for n in range(7):
            add_crm(
                wh,
                f"T-crowd{n}",
                c,
                at,
                email=None,
                phone=f"1390000{n:04d}",
                device_id=None,
                national_id=None,
            )
        # a late payment (timestamped 3 days ago) with f's phone and a new e-mail, and a record merging two
        late_payment(
            wh,
            "T-late",
            str(crm_value(wh, f, "phone")),
            "late.payer@example.com",
            noon(day - timedelta(days=3)),
        )
        add_crm(
            wh,
            "T-merge",
            a,
            at,
            email=crm_value(wh, c, "email"),
            phone=crm_value(wh, d, "phone"),
            full_name=None,  # no name: nothing says it is someone else than c or d
        )
        # f's sister, with f's e-mail: the e-mail is then two people's and links nobody (tasks/dedupe/households.py)
        add_crm(
            wh, "T-sister", f, at, **(spouse_of(wh, f) | {"phone": None}), device_id=None, national_id=None
        )
    elif day == DAYS[3]:
        # erasure: four of the crowd (c's blocks shrink back within the limit: c and its duplicate link again)
        # and d's duplicate
        for n in range(4):
            erase(wh, f"T-crowd{n}")
        erase(wh, "T-dup1")
        erase(wh, "T-sister")  # the e-mail is f's alone again
    elif day == DAYS[4]:
        change_crm(wh, "T-merge", at, phone=None)  # the merging record loses its phone: a split
        add_crm(wh, "T-dup2", e, at, email=None, phone=None, device_id=None)


def spouse_of(wh: Warehouse, source_id: str) -> dict[str, object]:
    """The full name, sex and phone of a CRM record's spouse: the same surname (a Han name's first character),
    another given name, the other sex, the phone with its last digit changed (a family's numbers)."""
    full_name, gender = str(crm_value(wh, source_id, "full_name")), crm_value(wh, source_id, "gender")
    phone = str(crm_value(wh, source_id, "phone"))
    last = "1" if phone[-1] != "1" else "2"
    return {
        "full_name": full_name[0] + "丽娜",
        "gender": "F" if gender == "M" else "M",
        "phone": phone[:-1] + last,
    }


def table(wh: Warehouse, name: str) -> list[tuple]:
    """Every row of a table, sorted."""
    return sorted(
        wh.rows(
            f"select * exclude (fitted_at) from {name}"
            if name == "core.match_model"
            else f"select * from {name}"
        ),
        key=repr,
    )


def compared_tables(wh: Warehouse) -> dict[str, list[tuple]]:
    """What must equal between an incremental run and a run from scratch."""
    return {
        name: table(wh, name)
        for name in (
            "core.identity_map",
            "core.customers",
            "core.match_links",
            "core.match_evidence",
            "core.identity_two_people",
        )
    }


def state_tables(wh: Warehouse) -> dict[str, list[tuple]]:
    """The matcher state a run leaves: brought up to date incrementally, it equals the one a full run writes
    (the block sizes of core.match_state_blocks counted again from the keys)."""
    return {
        name: table(wh, name)
        for name in ("core.match_state_keys", "core.match_state_blocks", "core.match_state_links")
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[PipelineConfig, PipelineConfig, Path]:
    """Sample data extracted into warehouse A (the incremental one); config B for the runs from scratch."""
    root = tmp_path_factory.mktemp("incremental")
    generate(root / "data", customers=600, seed=7, end=END)
    dedupe = {"max_block_size": 6}
    a = load_config(write_config(root / "data", root / "a", dedupe=dedupe))
    b = load_config(write_config(root / "data", root / "b", dedupe=dedupe))
    with Warehouse.open(a) as wh:
        extract_all(wh, a, "test")
    return a, b, root


def people(wh: Warehouse) -> list[str]:
    """CRM records signed up well before the test days, with a phone, an e-mail, a name and a birth date."""
    return [
        row[0]
        for row in wh.rows(
            "select source_id from staging.customers where source = 'crm' and valid_to is null "
            "and signup_ts < $before and phone is not null and email is not null and birth_date is not null "
            "and full_name is not null order by source_id limit 6",
            {"before": noon(DAYS[0] - timedelta(days=30))},
        )
    ]


def test_incremental_runs_equal_runs_from_scratch_day_after_day(
    world: tuple[PipelineConfig, PipelineConfig, Path],
) -> None:
    a, b, root = world
    results: list[tuple[DedupeResult, DedupeResult]] = []
    links: list[bool] = []  # c and its duplicate linked by the matcher, per day
    spouses: list[bool] = []  # e and the spouse linked, per day
    merged: list[bool] = []  # c and d one customer, per day
    sisters: list[bool] = []  # f and the sister one customer, per day
    for day in DAYS:
        with Warehouse.open(a) as wh:
            mutate(wh, day, people(wh))
        copy_warehouse(a, b)
        with Warehouse.open(b) as wh:  # from scratch: the state dropped, the same stored model
            # the golden record and the facts' observations built whole too
            for name in (*STATE_TABLES, *OBSERVATION_TABLES, "core.golden_state"):
                wh.execute(f"drop table if exists {name}")
            scratch = dedupe_all(wh, b, day)
            expected = compared_tables(wh) | state_tables(wh)
        with Warehouse.open(a) as wh:
            incremental = dedupe_all(wh, a, day)
            got = compared_tables(wh) | state_tables(wh)
        for name in expected:
            assert got[name] == expected[name], (day, name)
        assert incremental.customers == scratch.customers
        results.append((incremental, scratch))
        with Warehouse.open(a) as wh:
            c, d = people(wh)[2:4]
            links.append(linked(wh, c, "T-dup0"))
            spouses.append(linked(wh, people(wh)[4], "T-spouse"))
            merged.append(len({customer_of(wh, x) for x in (c, d)}) == 1)
            sisters.append(customer_of(wh, people(wh)[5]) == customer_of(wh, "T-sister"))
    modes = [r.matcher_mode for r, _ in results]
    assert modes == ["refit"] + ["incremental"] * (len(DAYS) - 1)
    assert all(s.matcher_mode == "full" for _, s in results[1:])
    assert results[0][0].refit_reason == "no fitted model stored"
    # the facts' observations: built on the first day, then the new files folded in (the late payment's)
    assert results[0][0].observations_rebuilt == "no core.fact_observations yet"
    assert [r.observations_rebuilt for r, _ in results[1:]] == [None] * (len(DAYS) - 1)
    # every day changed something the matcher reads: new, changed and erased records
    assert all(r.changed_records > 0 for r, _ in results[1:5])
    assert results[1][0].removed_records >= 2  # two changed records: their old versions are gone
    assert results[3][0].removed_records >= 5  # erasures
    # after the first day, only the touched components are re-resolved (the scratch runs link everyone)
    assert [r.graph_fallback for r, _ in results[1:]] == [None] * (len(DAYS) - 1)
    assert all(0 < (r.touched_records or 0) < r.records / 2 for r, _ in results[1:5])
    assert all(s.touched_records is None for _, s in results)
    # the duplicate links to c, the crowd takes the link away (c's blocks too large), the erasure gives it back
    assert links == [False, True, False, True, True, True]
    # the merging record joins c and d into one customer, and the split leaves them apart again
    assert merged == [False, False, True, True, False, False]
    # the spouse is never linked to e (a person conflict), incrementally as from scratch
    assert spouses == [False] * len(DAYS)
    # the sister shares f's e-mail on the third day only: never f's customer, and the e-mail is one value more
    # that two people hold on that day
    assert sisters == [False] * len(DAYS)
    held = [r.two_people_keys for r, _ in results]
    assert held == [s.two_people_keys for _, s in results]
    assert held[2] == held[1] + 1 and held[3] == held[1]

    # a refit on the last day gives the same clusters on this data
    refit = load_config(write_config(root / "data", root / "refit", dedupe={"max_block_size": 6}))
    copy_warehouse(a, refit)
    with Warehouse.open(refit) as wh:
        result = dedupe_all(wh, refit, DAYS[-1], refit=True)
        assert result.refitted and result.refit_reason == "refit requested"
        refitted = table(wh, "core.identity_map")
    with Warehouse.open(a) as wh:
        # the same day again, incrementally: nothing changed
        again = dedupe_all(wh, a, DAYS[-1])
        assert again.matcher_mode == "incremental" and again.changed_records == 0
        incremental = table(wh, "core.identity_map")
    assert clusters(refitted) == clusters(incremental)
    # without the person conflict rule, the matcher takes the spouse for e
    unruled = load_config(
        write_config(root / "data", root / "unruled", dedupe={"max_block_size": 6, "person_conflicts": False})
    )
    copy_warehouse(a, unruled)
    with Warehouse.open(unruled) as wh:
        dedupe_all(wh, unruled, DAYS[-1])
        assert linked(wh, people(wh)[4], "T-spouse")


def linked(wh: Warehouse, first: str, second: str) -> bool:
    """Whether two CRM records have a probabilistic link this run."""
    return bool(
        wh.scalar(
            "select count(*) from core.match_links where source_a = 'crm' and source_b = 'crm' "
            "and ((id_a = $x and id_b = $y) or (id_a = $y and id_b = $x))",
            {"x": first, "y": second},
        )
    )


def customer_of(wh: Warehouse, source_id: str) -> str:
    """The customer id of a CRM record."""
    return wh.scalar(
        "select customer_id from core.identity_map where source = 'crm' and source_id = $id",
        {"id": source_id},
    )


def clusters(identity_map: list[tuple]) -> set[frozenset]:
    """The partition of records (source, source_id) an identity map makes, whatever the ids."""
    groups: dict[str, set] = {}
    for row in identity_map:
        customer_id, source, source_id = row[0], row[1], row[2]
        groups.setdefault(customer_id, set()).add((source, source_id))
    return {frozenset(g) for g in groups.values()}


def test_a_settings_change_refits_and_the_full_path_runs_without_the_matcher(
    world: tuple[PipelineConfig, PipelineConfig, Path],
) -> None:
    a, _, root = world
    day = DAYS[0]
    stricter = load_config(
        write_config(root / "data", root / "strict", dedupe={"max_block_size": 6, "match_threshold": 0.95})
    )
    copy_warehouse(a, stricter)
    with Warehouse.open(stricter) as wh:
        first = dedupe_all(wh, stricter, day)
        assert first.refitted and "settings" in first.refit_reason
        second = dedupe_all(wh, stricter, day)
        assert second.matcher_mode == "incremental" and not second.refitted
    off = load_config(write_config(root / "data", root / "off", dedupe={"probabilistic": False}))
    copy_warehouse(a, off)
    with Warehouse.open(off) as wh:
        result = dedupe_all(wh, off, day)
        assert result.matcher_mode == "off" and result.probabilistic_links == 0
        assert wh.scalar("select count(*) from core.match_links") == 0
        assert result.customers == wh.scalar("select count(*) from core.customers") > 0


def test_an_erasure_in_the_matcher_state_refits(world: tuple[PipelineConfig, PipelineConfig, Path]) -> None:
    a, _, root = world
    erased = load_config(write_config(root / "data", root / "erased", dedupe={"max_block_size": 6}))
    copy_warehouse(a, erased)
    with Warehouse.open(erased) as wh:
        dedupe_all(wh, erased, DAYS[-1])  # a model and a state (whatever the other tests left)
        person = people(wh)[5]
        # what tasks/erase does to the tables keyed by customer record
        for name in ("core.match_state_records", "core.match_state_keys"):
            wh.execute(f"delete from {name} where record_source = 'crm' and record_id = $id", {"id": person})
        erase(wh, person)
        result = dedupe_all(wh, erased, DAYS[-1])
        assert result.refitted and "erasure" in result.refit_reason
        held = "select count(*) from core.match_state_records where record_id = $id"
        assert wh.scalar(held, {"id": person}) == 0


def test_a_backfill_before_the_fit_day_keeps_the_later_model_and_state(
    world: tuple[PipelineConfig, PipelineConfig, Path],
) -> None:
    a, _, root = world
    later = load_config(write_config(root / "data", root / "later", dedupe={"max_block_size": 6}))
    copy_warehouse(a, later)
    state = ("core.match_model", "core.match_model_values", "core.match_state", "core.match_state_links")
    with Warehouse.open(later) as wh:
        dedupe_all(wh, later, DAYS[-1], refit=True)
        kept = {name: table(wh, name) for name in state}
        backfill = dedupe_all(wh, later, DAYS[0] - timedelta(days=20))
        assert backfill.refitted and "later day" in backfill.refit_reason
        assert backfill.model_fitted_as_of == DAYS[0] - timedelta(days=20)
        # the later days are scored with the model (and diffed against the state) they had before
        assert {name: table(wh, name) for name in state} == kept
        again = dedupe_all(wh, later, DAYS[-1])
        assert (again.matcher_mode, again.model_fitted_as_of) == ("incremental", DAYS[-1])
