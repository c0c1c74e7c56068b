"""Every source's rows for one chunk of persons, with their truth rows: CRM, game, payments, social, survey."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from sampledata.corruption import Rows, corrupt_registrations, noise_stream
from sampledata.distributions import (
    CITY_P,
    DAY,
    EXTRA_ORDERS_MEAN,
    GAME_TYPE_P,
    PAY_LOGIT,
    SHARE_FULL_REFUND,
    SHARE_GUEST_SESSIONS_MEMBERS,
    SHARE_PAYMENT_WITH_MEMBER,
    SHARE_REFUND,
    SHARE_SURVEY,
    SHARE_WEB_SESSIONS,
    SOCIAL_PER_SESSION,
    Difficulty,
    Window,
    probabilities,
    sigmoid,
    times_between,
    within,
)
from sampledata.faults import (
    BAD_AMOUNTS,
    BAD_SATISFACTION,
    FAULT_CRM_EACH,
    FAULT_CRM_EXACT_DUPLICATE,
    FAULT_PAYMENT_AMOUNT,
    FAULT_PAYMENT_DUPLICATE,
    FAULT_PAYMENT_NO_TXN,
    FAULT_SESSION_EACH,
    FAULT_SURVEY_SCORE,
    future_times,
    with_exact_duplicates,
)
from sampledata.formats import (
    ISO_FORMAT,
    SESSION_COLUMNS,
    format_cny,
    format_ids,
    format_local,
    gather_or_null,
    pick,
)
from sampledata.persons import Keys, Persons, make_persons
from sampledata.vocabulary import (
    ACTION_P,
    ACTIONS,
    CHANNEL_P,
    CHANNELS,
    CITIES,
    COMMENT_PHRASES,
    COMMENT_SEPARATORS,
    GAME_MEDIAN_S,
    GAME_TYPES,
    ODD_AMOUNT_CENTS,
    ORDER_STATUS_P,
    PHONE_STYLES,
    RECHARGE_CNY,
    SATISFACTION_P,
    SHARE_CITY_SUFFIX,
    SHARE_FAVOURITE_GAME,
    SHARE_ODD_AMOUNT,
    STAKES,
    STATUSES,
    email_variant,
    phone_variant_expr,
)


@dataclass(frozen=True)
class NextIds:
    """Next free number of each id series; ids are dense across chunks."""

    crm: int = 1
    session: int = 1
    order: int = 1
    txn: int = 1
    event: int = 1
    survey: int = 1


@dataclass(frozen=True)
class Members:
    """Per person of a chunk: CRM number of the first and second registration (-1 if none)."""

    first: np.ndarray
    second: np.ndarray
    second_at: np.ndarray

    def at(self, person: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The member number each person used at time t: the newer account once it exists."""
        use_second = (self.second[person] >= 0) & (t >= self.second_at[person])
        return np.where(use_second, self.second[person], self.first[person])


@dataclass(frozen=True)
class Sessions:
    """Clean per-session arrays in person order, for payments and social events to refer to."""

    offset: np.ndarray  # index of each person's first session
    start: np.ndarray
    duration: np.ndarray
    game: np.ndarray
    member: np.ndarray
    device: pl.Series


@dataclass(frozen=True)
class Source:
    """One source's rows of a chunk (file column order), their truth, and the id numbers used."""

    rows: pl.DataFrame
    truth: pl.DataFrame
    used: int
    corruptions: dict[str, int] = field(default_factory=dict)  # corrupted records by kind (adversarial CRM)


def _during_sessions(
    rng: np.random.Generator, p: Persons, sessions: Sessions, person: np.ndarray, window: Window
) -> tuple[np.ndarray, np.ndarray]:
    """Pick one clean session of each given person and a second within it (never after the window)."""
    session = sessions.offset[person] + (rng.random(person.size) * p.n_sessions[person]).astype(np.int64)
    start = sessions.start[session]
    return session, within(rng, start, np.minimum(sessions.duration[session], window.end - start))


def _truth(source: str, record_id: pl.Series, person_id: pl.Series) -> pl.DataFrame:
    """Truth rows for the records that have an id."""
    return (
        pl.DataFrame({"record_id": record_id, "person_id": person_id})
        .select(pl.lit(source).alias("source"), "record_id", "person_id")
        .filter(pl.col("record_id").is_not_null())
    )


# ---------------------------------------------------------------------------------------------
# CRM
# ---------------------------------------------------------------------------------------------


def _registrations(
    p: Persons, first_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Members]:
    """CRM rows as (person, kind, time, member number), numbered by time; kind 0 first, 1 again, 2 hard."""
    main = np.flatnonzero(p.has_crm)
    again = np.flatnonzero(p.reregistered)
    person = np.concatenate([main, again])
    kind = np.concatenate([np.zeros(main.size, np.int64), np.where(p.hard_duplicate[again], 2, 1)])
    registered = np.where(kind == 0, p.first_seen[person], p.second_registration[person])
    order = np.argsort(registered, kind="stable")  # member numbers grow with registration time
    person, kind, registered = person[order], kind[order], registered[order]
    number = first_id + np.arange(person.size, dtype=np.int64)
    first = np.full(p.n, -1, np.int64)
    second = np.full(p.n, -1, np.int64)
    first[person[kind == 0]] = number[kind == 0]
    second[person[kind > 0]] = number[kind > 0]
    return person, kind, registered, number, Members(first, second, p.second_registration)


def _crm_phone() -> pl.Expr:
    """手机: the phone in the row's style (typo for hard duplicates), or a broken one."""
    phone = pl.col("phone")
    styled = phone_variant_expr(
        pl.when(pl.col("kind") == 2).then(pl.col("typo_phone")).otherwise(phone), pl.col("phone_style")
    )
    return (
        pl.when(pl.col("bad_phone") == 1)
        .then(phone.str.slice(0, 8))
        .when(pl.col("bad_phone") == 2)
        .then(phone.str.slice(0, 3) + "abcd" + phone.str.slice(7))
        .when(pl.col("bad_phone") == 3)
        .then(phone.str.slice(0, 10) + "O")
        .otherwise(styled)
    )


def _crm_email() -> pl.Expr:
    """邮箱: re-typed for re-registrations, another address for hard duplicates, or a broken one."""
    email = pl.col("email")
    return (
        pl.when(pl.col("bad_email") == 1)
        .then(email.str.replace(r"@.*$", "@").fill_null("abc@"))
        .when(pl.col("bad_email") == 2)
        .then(email.str.replace("@", ".", literal=True).fill_null("no-at-sign.com"))
        .when(pl.col("kind") == 2)
        .then(pl.col("alt_email"))
        .otherwise(email_variant(email, pl.col("email_style")))
    )


def _birth_text() -> pl.Expr:
    """出生日期 in the row's format: 1990-03-07, 1990/3/7, 19900307 or empty."""
    birth = pl.col("birth")
    return (
        pl.when(pl.col("birth_style") == 0)
        .then(birth.dt.strftime("%Y-%m-%d"))
        .when(pl.col("birth_style") == 1)
        .then(birth.dt.strftime("%Y/%-m/%-d"))
        .when(pl.col("birth_style") == 2)
        .then(birth.dt.strftime("%Y%m%d"))
    )


def _crm(
    rng: np.random.Generator,
    p: Persons,
    window: Window,
    first_id: int,
    level: Difficulty,
    noise: np.random.Generator | None = None,
) -> tuple[Source, Members]:
    """CRM rows (registrations, faults, exact duplicates) and the member numbers per person.

    noise: the chunk's corruption stream (sampledata.corruption), for a level with corruption.
    """
    person, kind, registered, number, members = _registrations(p, first_id)
    n = person.size
    again = kind > 0
    updated = registered + ((window.end - registered) * rng.random(n)).astype(np.int64)
    updated = np.where(rng.random(n) < 0.3, registered, updated)
    moved = again & (rng.random(n) < level.moved)
    city = np.where(moved, rng.choice(len(CITIES), size=n, p=CITY_P), p.city[person])
    restyled = again & (rng.random(n) < 0.6)
    phone_style = np.where(restyled, rng.integers(1, len(PHONE_STYLES), size=n), 0)
    phone_style = np.where(kind == 2, rng.integers(0, len(PHONE_STYLES), size=n), phone_style)
    email_style = np.where(again & (rng.random(n) < 0.5), rng.integers(1, 5, size=n), 0)
    traditional = again & (rng.random(n) < level.traditional)

    # Faults, each row independently.
    bad_phone = np.where(rng.random(n) < FAULT_CRM_EACH, rng.integers(1, 4, size=n), 0)
    bad_email = np.where(rng.random(n) < FAULT_CRM_EACH, rng.integers(1, 3, size=n), 0)
    no_id = rng.random(n) < FAULT_CRM_EACH
    future = rng.random(n) < FAULT_CRM_EACH
    registered = np.where(future, future_times(rng, n, window, far=0.5), registered)
    updated = np.maximum(updated, registered)

    frame = p.strings[person].with_columns(
        kind=pl.Series(kind),
        phone_style=pl.Series(phone_style),
        email_style=pl.Series(email_style),
        bad_phone=pl.Series(bad_phone),
        bad_email=pl.Series(bad_email),
        birth=pl.from_epoch(pl.Series(p.birth_day[person]), time_unit="d"),
        birth_style=pl.Series(rng.choice(4, size=n, p=[0.75, 0.15, 0.05, 0.05])),
    )
    corruptions: dict[str, int] = {}
    if level.corruption is not None and noise is not None:
        latest = date(1970, 1, 1) + timedelta(days=window.end // DAY)
        shows_birth = frame["birth_style"].to_numpy() < 3  # style 3 writes no birth date (_birth_text)
        frame, city, corruptions = corrupt_registrations(
            noise, p, frame, Rows(person, kind, traditional, city, shows_birth), latest, level.corruption
        )
    rows = frame.select(
        format_ids("M", np.where(no_id, -1, number), 7).alias("会员编号"),
        pl.when(pl.Series(traditional)).then(pl.col("name_trad")).otherwise(pl.col("name")).alias("姓名"),
        _crm_phone().alias("手机"),
        _crm_email().alias("邮箱"),
        pl.when(pl.Series(rng.random(n) >= 0.03)).then(pl.col("gender")).alias("性别"),
        _birth_text().alias("出生日期"),
        (
            pick([c[0] for c in CITIES], city)
            + pl.when(pl.Series(rng.random(n) < SHARE_CITY_SUFFIX)).then(pl.lit("市")).otherwise(pl.lit(""))
        ).alias("城市"),
        pick([c[1] for c in CITIES], city).alias("省份"),
        format_local(registered).alias("注册时间"),
        format_local(updated).alias("更新时间"),
        pick(("否", "是"), (rng.random(n) < 0.8).astype(np.int64)).alias("营销同意"),
    )
    truth = _truth("crm", rows["会员编号"], p.person_id.gather(person))
    rows = with_exact_duplicates(rows, rng, FAULT_CRM_EXACT_DUPLICATE)
    return Source(rows, truth, n, corruptions), members


# ---------------------------------------------------------------------------------------------
# Game, payments, social, survey
# ---------------------------------------------------------------------------------------------


def _game(
    rng: np.random.Generator, p: Persons, members: Members, window: Window, first_id: int
) -> tuple[Source, Sessions]:
    """Game sessions (sorted by start time, with faults) and the clean arrays behind them."""
    person = np.repeat(np.arange(p.n, dtype=np.int64), p.n_sessions)
    m = person.size
    start = times_between(rng, p.first_seen[person], p.last_active[person])
    favourite = rng.random(m) < SHARE_FAVOURITE_GAME
    game = np.where(favourite, p.favourite_game[person], rng.choice(len(GAME_TYPES), size=m, p=GAME_TYPE_P))
    duration = rng.lognormal(np.log(np.asarray(GAME_MEDIAN_S)[game]), 0.6)
    duration = np.clip(duration, 30, 4 * 3600).astype(np.int64)
    stake_level = np.rint(3.0 + 1.3 * p.spend[person] + rng.normal(0.0, 0.7, size=m))
    stake = np.asarray(STAKES, dtype=np.int64)[np.clip(stake_level, 0, len(STAKES) - 1).astype(np.int64)]

    # Mostly the first device; guests always have a device, members on the web have none.
    other_device = (p.n_devices[person] > 1) & (rng.random(m) >= 0.75)
    slot = np.where(other_device, 1 + (rng.random(m) * (p.n_devices[person] - 1)).astype(np.int64), 0)
    guest = ~p.has_crm[person] | (rng.random(m) < SHARE_GUEST_SESSIONS_MEMBERS)
    member = np.where(guest, -1, members.at(person, start))
    has_device = guest | (rng.random(m) >= SHARE_WEB_SESSIONS)
    device = gather_or_null(p.devices, np.where(has_device, person * 3 + slot, -1))
    clean = Sessions(np.cumsum(p.n_sessions) - p.n_sessions, start, duration, game, member, device)

    anonymous = rng.random(m) < FAULT_SESSION_EACH
    future = rng.random(m) < FAULT_SESSION_EACH
    shown_start = np.where(future, future_times(rng, m, window, far=0.0), start)
    order = np.argsort(start, kind="stable")  # session ids follow the real start time
    rows = pl.DataFrame(
        {
            "member_id": format_ids("M", np.where(anonymous, -1, member), 7),
            "device_id": gather_or_null(device, np.where(anonymous, -1, np.arange(m))),
            "game_type": pick(GAME_TYPES, game),
            "start_time": format_local(shown_start),
            "duration_s": pl.Series(duration, dtype=pl.Int64),
            "stake": pl.Series(stake, dtype=pl.Int64),
        }
    )[order]
    rows = rows.with_columns(session_id=format_ids("S", first_id + np.arange(m, dtype=np.int64), 9))
    rows = rows.select(SESSION_COLUMNS)
    return Source(rows, _truth("game", rows["session_id"], p.person_id.gather(person[order])), m), clean


def _refunds(
    rng: np.random.Generator, status: np.ndarray, cents: np.ndarray, t: np.ndarray, window: Window
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Refunds of some successful orders: (order index, refunded cents, time within a week)."""
    order = np.flatnonzero((status == 0) & (rng.random(status.size) < SHARE_REFUND))
    paid = cents[order]
    full = (rng.random(order.size) < SHARE_FULL_REFUND) | (paid < 200)
    partial = np.maximum(100, (paid * rng.uniform(0.1, 0.9, size=order.size)).astype(np.int64))
    when = within(rng, t[order], np.minimum(7 * DAY, window.end - t[order]))
    return order, np.where(full, paid, partial), when


def _payment_contacts() -> tuple[pl.Expr, pl.Expr]:
    """phone and email columns: needed when there is no member id, sometimes given anyway."""
    no_member = pl.col("member_id").is_null()
    email_known = pl.col("email").is_not_null()
    wants_email = no_member & (pl.col("contact") > 0) & email_known
    not_email_only = pl.col("contact") != 1
    wants_phone = pl.when(no_member).then(not_email_only | ~email_known).otherwise(pl.col("phone_anyway"))
    phone = pl.when(wants_phone).then(phone_variant_expr(pl.col("phone"), pl.col("phone_style")))
    email = pl.when(wants_email).then(email_variant(pl.col("email"), pl.col("email_style")))
    return phone, email


def _lifetimes(p: Persons, payer: np.ndarray, orders: np.ndarray, window: Window) -> pl.DataFrame:
    """The planted behaviour of each person: when they churned (empty: still active at the end of the
    window), whether they pay, how many orders they placed and their order rate while active.

    Sessions start uniformly between first_seen and the churn time, and orders fall during sessions, so a
    payer orders at `orders_per_active_day` until churning; the last order can come up to one session
    (at most 4 hours) after churned_at, and a refund up to 7 days after its order.
    """
    active_days = np.maximum((p.last_active - p.first_seen) / DAY, 1.0)
    churned = p.last_active < window.end
    return pl.DataFrame(
        {
            "person_id": p.person_id,
            "first_seen": format_local(p.first_seen),
            "churned_at": format_local(p.last_active).zip_with(
                pl.Series(churned), pl.Series([None] * p.n, dtype=pl.String)
            ),
            "payer": pl.Series(payer),
            "orders": pl.Series(orders, dtype=pl.Int64),
            "orders_per_active_day": pl.Series(np.round(orders / active_days, 6)),
        }
    )


def _payments(
    rng: np.random.Generator,
    p: Persons,
    members: Members,
    sessions: Sessions,
    window: Window,
    ids: NextIds,
) -> tuple[Source, int, pl.DataFrame]:
    """Payment rows (orders plus refunds, with faults), the number of orders, and the planted lifetimes."""
    payer = (p.n_sessions > 0) & (rng.random(p.n) < sigmoid(PAY_LOGIT + p.spend))
    extra = rng.poisson(EXTRA_ORDERS_MEAN * np.exp(0.8 * p.spend - 0.32))
    lifetimes = _lifetimes(p, payer, np.where(payer, 1 + extra, 0), window)
    person = np.repeat(np.arange(p.n, dtype=np.int64), np.where(payer, 1 + extra, 0))
    _, t = _during_sessions(rng, p, sessions, person, window)
    by_time = np.argsort(t, kind="stable")  # order numbers follow time
    person, t = person[by_time], t[by_time]
    k = person.size

    tier = np.clip(np.rint(1.2 + p.spend[person] + rng.normal(size=k)), 0, len(RECHARGE_CNY) - 1)
    cents = np.asarray(RECHARGE_CNY, dtype=np.int64)[tier.astype(np.int64)] * 100
    odd = rng.random(k) < SHARE_ODD_AMOUNT
    cents = np.where(odd, rng.choice(np.asarray(ODD_AMOUNT_CENTS, dtype=np.int64), size=k), cents)
    status = rng.choice(3, size=k, p=probabilities(ORDER_STATUS_P))
    linked = p.has_crm[person] & (rng.random(k) < SHARE_PAYMENT_WITH_MEMBER)
    per_order = pl.DataFrame(
        {
            "member_id": format_ids("M", np.where(linked, members.at(person, t), -1), 7),
            "order_id": format_ids("O", ids.order + np.arange(k, dtype=np.int64), 9),
            "channel": pick(CHANNELS, rng.choice(len(CHANNELS), size=k, p=probabilities(CHANNEL_P))),
            "contact": rng.choice(3, size=k, p=[0.55, 0.2, 0.25]),  # phone, e-mail, both
            "phone_style": np.where(rng.random(k) < 0.5, 0, rng.integers(1, len(PHONE_STYLES), size=k)),
            "email_style": np.where(rng.random(k) < 0.9, 0, rng.integers(1, 5, size=k)),
            "phone_anyway": rng.random(k) < 0.15,
        }
    ).hstack(p.strings.select("phone", "email")[person])

    refund, refund_cents, refund_t = _refunds(rng, status, cents, t, window)
    order = np.concatenate([np.arange(k, dtype=np.int64), refund])
    row_t = np.concatenate([t, refund_t])
    row_cents = np.concatenate([cents, -refund_cents])
    row_status = np.concatenate([status, np.full(refund.size, STATUSES.index("REFUND"))])
    by_time = np.argsort(row_t, kind="stable")
    order, row_t, row_cents = order[by_time], row_t[by_time], row_cents[by_time]
    row_status = row_status[by_time]
    n = order.size

    bad_amount = pl.Series(rng.random(n) < FAULT_PAYMENT_AMOUNT)
    bad_text = pick(BAD_AMOUNTS, rng.integers(0, len(BAD_AMOUNTS), size=n))
    txn = np.where(rng.random(n) < FAULT_PAYMENT_NO_TXN, -1, ids.txn + np.arange(n, dtype=np.int64))
    phone, email = _payment_contacts()
    rows = per_order[order].select(
        format_ids("T", txn, 9).alias("txn_id"),
        "order_id",
        "member_id",
        phone.alias("phone"),
        email.alias("email"),
        pl.when(bad_amount).then(bad_text).otherwise(format_cny(row_cents)).alias("amount"),
        pl.lit("CNY").alias("currency"),
        pick(STATUSES, row_status).alias("status"),
        "channel",
        format_local(row_t, ISO_FORMAT).alias("created_at"),
    )
    truth = _truth("payments", rows["txn_id"], p.person_id.gather(person[order]))
    return Source(with_exact_duplicates(rows, rng, FAULT_PAYMENT_DUPLICATE), truth, n), k, lifetimes


def _social(
    rng: np.random.Generator, p: Persons, sessions: Sessions, window: Window, first_id: int
) -> Source:
    """Social events, each during one of the person's sessions, sorted by time."""
    person = np.repeat(np.arange(p.n, dtype=np.int64), rng.poisson(SOCIAL_PER_SESSION * p.n_sessions))
    session, t = _during_sessions(rng, p, sessions, person, window)
    by_time = np.argsort(t, kind="stable")
    person, session, t = person[by_time], session[by_time], t[by_time]
    k = person.size
    rows = pl.DataFrame(
        {
            "event_id": format_ids("E", first_id + np.arange(k, dtype=np.int64), 9),
            "member_id": format_ids("M", sessions.member[session], 7),
            "device_id": sessions.device.gather(session),
            "action": pick(ACTIONS, rng.choice(len(ACTIONS), size=k, p=probabilities(ACTION_P))),
            "game": pick(GAME_TYPES, sessions.game[session]),
            "ts": format_local(t, ISO_FORMAT),
        }
    ).select("event_id", pl.struct("member_id", "device_id").alias("user"), "action", "game", "ts")
    return Source(rows, _truth("social", rows["event_id"], p.person_id.gather(person)), k)


def _comments(rng: np.random.Generator, n: int) -> pl.Series:
    """Free-text survey comments; some are empty, some hold a comma or a newline."""
    first = np.where(rng.random(n) < 0.3, -1, rng.integers(0, len(COMMENT_PHRASES), size=n))
    two = (first >= 0) & (rng.random(n) < 0.4)
    second = np.where(two, rng.integers(0, len(COMMENT_PHRASES), size=n), -1)
    sep = np.where(two, rng.integers(0, len(COMMENT_SEPARATORS), size=n), -1)
    parts = (pick(COMMENT_PHRASES, first), pick(COMMENT_SEPARATORS, sep), pick(COMMENT_PHRASES, second))
    return pl.select(pl.concat_str(*parts, ignore_nulls=True).replace("", None)).to_series()


def _survey(rng: np.random.Generator, p: Persons, members: Members, window: Window, first_id: int) -> Source:
    """Survey answers from about SHARE_SURVEY of persons, sorted by submission time."""
    person = np.flatnonzero(rng.random(p.n) < SHARE_SURVEY)
    t = times_between(rng, p.first_seen[person], np.full(person.size, window.end))
    by_time = np.argsort(t, kind="stable")
    person, t = person[by_time], t[by_time]
    k = person.size
    linked = p.has_crm[person] & (rng.random(k) < 0.9)
    member = format_ids("M", np.where(linked, members.at(person, t), -1), 7)
    score = pl.Series(rng.choice(5, size=k, p=probabilities(SATISFACTION_P)) + 1).cast(pl.String)
    bad_score = pl.Series(rng.random(k) < FAULT_SURVEY_SCORE)
    bad_text = pick(BAD_SATISFACTION, rng.integers(0, len(BAD_SATISFACTION), size=k))
    phone_style = pl.Series(np.where(rng.random(k) < 0.7, 0, rng.integers(1, len(PHONE_STYLES), size=k)))
    phone_given = member.is_null() | pl.Series(rng.random(k) < 0.6)
    rows = p.strings[person].select(
        format_ids("Q", first_id + np.arange(k, dtype=np.int64), 7).alias("问卷编号"),
        member.alias("会员编号"),
        pl.when(phone_given).then(phone_variant_expr(pl.col("phone"), phone_style)).alias("手机"),
        pl.when(bad_score).then(bad_text).otherwise(score).alias("满意度"),
        _comments(rng, k).alias("意见"),
        format_local(t).alias("提交时间"),
    )
    return Source(rows, _truth("survey", rows["问卷编号"], p.person_id.gather(person)), k)


def make_chunk(
    chunk_index: int,
    first_person: int,
    n: int,
    seed: int,
    window: Window,
    keys: Keys,
    ids: NextIds,
    level: Difficulty,
) -> tuple[dict[str, Source], pl.DataFrame, NextIds]:
    """Every source's rows for persons first_person..first_person+n-1, their planted lifetimes, and the next free ids."""
    rng = np.random.default_rng([seed, chunk_index])
    noise = noise_stream(seed, chunk_index) if level.corruption is not None else None
    persons = make_persons(rng, first_person, n, window, keys, level, noise)
    crm, members = _crm(rng, persons, window, ids.crm, level, noise)
    game, sessions = _game(rng, persons, members, window, ids.session)
    payments, n_orders, lifetimes = _payments(rng, persons, members, sessions, window, ids)
    social = _social(rng, persons, sessions, window, ids.event)
    survey = _survey(rng, persons, members, window, ids.survey)
    next_ids = NextIds(
        crm=ids.crm + crm.used,
        session=ids.session + game.used,
        order=ids.order + n_orders,
        txn=ids.txn + payments.used,
        event=ids.event + social.used,
        survey=ids.survey + survey.used,
    )
    chunk = {"crm": crm, "game": game, "payments": payments, "social": social, "survey": survey}
    return chunk, lifetimes, next_ids
