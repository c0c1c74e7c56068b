"""Model tests of the outreach list (published/outreach, outreach_contacts) and holdouts in marketing destinations."""

from __future__ import annotations

from datetime import date, timedelta

from tasks.act import ensure_act_tables, write_audiences
from tasks.publish.destinations import destination_frame, people_sql
from tasks.publish.outreach import outreach_frame
from tasks.publish.tables import publish_audiences
from tasks.shared.config import ActConfig, AudienceConfig, DestinationConfig
from tasks.shared.contracts import sha256_hex
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create

DAY = date(2026, 6, 1)
ACT = ActConfig(
    lookalikes=[],
    offer_window_days=7,
    audiences=[
        AudienceConfig(
            name="rescue",
            label_en="Rescue",
            label_zh="挽回",
            segment="rules:churn_warning",
            channels=["sms", "email"],
            priority=30,
        ),
        AudienceConfig(
            name="vip",
            label_en="VIP",
            label_zh="贵宾",
            segment="tier:high",
            channels=["in_game", "email"],
            priority=10,
        ),
    ],
)
# customer: (consent, email, phone)
PEOPLE = {
    "A": (True, "a@x.cn", "+8613900000001"),  # rescue and vip: rescue wins (priority), by sms
    "B": (True, "b@x.cn", None),  # rescue without a phone: email
    "C": (True, None, None),  # vip: in-game id from the CRM record
    "D": (False, "d@x.cn", "+8613900000004"),  # no consent: never listed
    "E": (True, "e@x.cn", "+8613900000005"),  # phone on the suppression list: the person is never contacted
    "F": (True, "f@x.cn", "+8613900000006"),  # held out of rescue: listed nowhere, though also in vip
    "G": (True, "g@x.cn", "+8613900000007"),  # offered 3 days ago: not again within the window
    "H": (True, None, None),  # vip without any address: the member id is missing
    "I": (True, "i@x.cn", "+8613900000009"),  # in rescue, held out of vip (lower priority): listed nowhere
    "J": (True, None, None),  # in rescue (sms, email: no address) and vip: listed for vip in-game
    "K": (True, "k@x.cn", None),  # offered 3 days later (a rerun of an earlier day): not listed again
}

# the day's published recommended items (the outreach files show them)
RECOMMENDED = {"A": "麻将,斗地主", "C": "象棋"}


def world(wh: Warehouse, day: date) -> None:
    ensure_act_tables(wh)
    write_audiences(wh, ACT)
    create(
        wh,
        "published.customer_segments",
        "as_of date, customer_id varchar, marketing_consent boolean, recommended_items varchar, run_id varchar",
        [(day, c, consent, RECOMMENDED.get(c), "r") for c, (consent, _, _) in PEOPLE.items()],
    )
    create(
        wh,
        "core.customers",
        "customer_id varchar, email varchar, phone varchar, full_name varchar, gender varchar, birth_date date, "
        "device_id varchar, address varchar, city varchar, province varchar, postcode varchar, country varchar",
        [(c, email, phone, *[None] * 9) for c, (_, email, phone) in PEOPLE.items()],
    )
    create(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar",
        [
            ("crm", "M003", "C"),
            ("crm", "M001", "A"),
            ("crm", "M010", "J"),
            ("game_accounts", "G9", "C"),
            ("payments", "x", "H"),
        ],
    )
    wh.ensure("ops/suppression")
    wh.execute(
        "insert into audit.suppression values ('phone', ?, 'suppression_file', now())",
        [sha256_hex("+8613900000005")],
    )
    members = [
        ("rescue", "A", False),
        ("vip", "A", False),
        ("rescue", "B", False),
        ("vip", "C", False),
        ("rescue", "D", False),
        ("rescue", "E", False),
        ("rescue", "F", True),
        ("vip", "F", False),
        ("rescue", "G", False),
        ("vip", "H", False),
        ("rescue", "I", False),
        ("vip", "I", True),
        ("rescue", "J", False),
        ("vip", "J", False),
        ("rescue", "K", False),
    ]
    wh.con.executemany(
        "insert into published.audience_members values (?, ?, ?, ?, ?, 'r')",
        [(day, audience, c, holdout, day) for audience, c, holdout in members],
    )
    wh.execute(
        "insert into published.outreach values (?, 'G', 'rescue', 30, 'sms', 'r0')", [day - timedelta(days=3)]
    )
    wh.execute(
        "insert into published.outreach values (?, 'B', 'rescue', 30, 'sms', 'r0')", [day - timedelta(days=7)]
    )
    wh.execute(
        "insert into published.outreach values (?, 'K', 'rescue', 30, 'email', 'r2')",
        [day + timedelta(days=3)],
    )


def test_outreach_list_rules(wh: Warehouse) -> None:
    world(wh, DAY)
    # publish_audiences replaces the day's members from act.audience_members: keep the hand-made ones
    wh.execute(
        "insert into act.audience_members select audience, customer_id, holdout, entered_on from published.audience_members"
    )
    counts = publish_audiences(wh, DAY, "r1", ACT, ["crm", "game_accounts"])
    assert counts["published.outreach"] == 4
    listed = wh.rows(
        "select customer_id, audience, priority, channel from published.outreach where as_of = ? order by 1",
        [DAY],
    )
    assert listed == [
        ("A", "rescue", 30, "sms"),
        ("B", "rescue", 30, "email"),  # offered 7 days ago: the 7-day window has passed
        ("C", "vip", 10, "in_game"),
        ("J", "vip", 10, "in_game"),  # rescue comes first but cannot reach them
    ]
    sms = outreach_frame(wh, DAY, "sms", ["crm", "game_accounts"])
    assert sms.select("customer_id", "audience_zh", "address", "recommended_items").rows() == [
        ("A", "挽回", "+8613900000001", "麻将,斗地主")
    ]
    in_game = outreach_frame(wh, DAY, "in_game", ["crm", "game_accounts"])
    # the record id in the first customers source
    assert in_game.select("customer_id", "address", "recommended_items").rows() == [
        ("C", "M003", "象棋"),
        ("J", "M010", None),
    ]
    masked = outreach_frame(wh, DAY, "sms", ["crm"], how="mask")
    assert masked["address"].to_list() == ["139****0001"]
    hashed = outreach_frame(wh, DAY, "email", ["crm"], how="sha256")
    assert hashed["address"].to_list() == [sha256_hex("b@x.cn")]


def test_holdouts_never_reach_a_marketing_destination(wh: Warehouse) -> None:
    world(wh, DAY)
    destination = DestinationConfig(
        name="crm_sync", kind="files", purpose="marketing", fields=["customer_id"]
    )
    marketing = destination_frame(wh, destination, DAY, [])
    # not D (no consent), E (suppressed), F or I (held out)
    assert sorted(marketing["customer_id"].to_list()) == ["A", "B", "C", "G", "H", "J", "K"]
    analytics = DestinationConfig(name="bi", kind="files", purpose="analytics", fields=["customer_id"])
    assert sorted(destination_frame(wh, analytics, DAY, [])["customer_id"].to_list()) == sorted(PEOPLE)


def test_the_outreach_people_are_the_marketing_people_in_an_audience_that_day(wh: Warehouse) -> None:
    world(wh, DAY)
    wh.execute(
        "insert into published.customer_segments values (?, 'Z', true, null, 'r')", [DAY]
    )  # no audience
    wh.execute("insert into core.customers (customer_id, email) values ('Z', 'z@x.cn')")

    def people(audiences_only: bool) -> list[str]:
        sql = people_sql(wh, marketing=True, audiences_only=audiences_only)
        return [c for (c,) in wh.rows(f"select customer_id from ({sql}) order by 1", {"as_of": DAY})]

    # consenting (not D), unsuppressed (not E), held out nowhere that day (not F, I)
    assert people(audiences_only=False) == ["A", "B", "C", "G", "H", "J", "K", "Z"]
    assert people(audiences_only=True) == ["A", "B", "C", "G", "H", "J", "K"]


def test_the_member_id_is_the_first_member_sources_least_record_id_whatever_the_row_order(
    wh: Warehouse,
) -> None:
    # one person's two game accounts, merged: a rerun must address the same one (the in-game file's hash with it)
    rows = [
        ("Cp", "crm", "M0004625"),
        ("Cp", "crm", "M0002960"),
        ("Cp", "shop", "S1"),
        ("Cq", "shop", "S2"),
        ("Cq", "game", "G9"),
        ("Cr", "social", "W1"),  # no member source: no row
    ]
    sql = wh.model_sql("published/member_ids") + " order by customer_id"
    for ordered in (rows, rows[::-1], rows[1:2] + rows[:1] + rows[2:]):
        create(wh, "core.identity_map", "customer_id varchar, source varchar, source_id varchar", ordered)
        assert wh.rows(sql, {"member_sources": ["game", "crm", "shop"]}) == [("Cp", "M0002960"), ("Cq", "G9")]
