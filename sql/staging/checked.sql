-- The raw rows of one source checked against its mapping: canonical fields typed, lineage, why a row fails, its id.
-- Grain: one row per raw row checked (_file, _row). Key: _file, _row.
-- Parameters: $run_id and $all_rows (the rows this run appended, or every raw row of the source); the
-- fragments use $tz (zone of timestamps written without one) and $future_limit (a later timestamp is a
-- fault) when a check needs them.
-- Template filled by tasks/extract/staging.py from the source's config: raw_rows names the raw rows (raw.<source>, or a view of
-- the files a run read: tasks.extract.kept_files.run_rows);
-- attempted: each mapping expression evaluated per row as t_<field>, a struct {v: value} that is null
-- where the expression fails on the row (try), and the raw columns that reasons quote as r_<index>;
-- mapped: each value as m_<field>; texts: each value read as text on every row (not one that casts
-- exactly), as x_<field>, trimmed once for the typed values and checks that read it; parsed: what
-- several values and checks read, computed once: a text amount's parts as _amount (sign, currency marks, digits, decimals: tasks/shared/money.py) and a mapped
-- currency's text as _currency (upper case, no spaces), else null; amounts: a transaction's amount read
-- once, as _amount_value (null when it does not read), _amount_too_precise and _amount_mark (the
-- currency of its marks; tasks.shared.money.read_sql); typed: each canonical field in its type (null
-- when the value does not parse; an amount in its source's amount_scale, never rounded; a currency as
-- its ISO code, from the currency mapped or the amount's mark); fields: their names; reasons: one
-- expression per check, null when the row passes it (a failed mapping is one; a value with too many
-- decimals, a number not finite or out of range, an infinite timestamp are others); row_id: the id
-- field, or null; kept: the source's `where` (tasks.extract.staging.kept_sql; `true` without one): the rows it is
-- not true of are filtered out, counted by sql/staging/filtered_counts.sql.
-- _reason joins the failed checks ('; '); one that starts 'no customer reference' is the row's only one
-- (that check comes last): the row is unattributed, staged apart (sql/staging/unattributed_rows.sql).
-- _duplicate_of starts null (set by tasks.extract.duplicates).
with raw_rows as (
    select * from {{raw_rows}}
    where ($all_rows or _run_id = $run_id)
        and {{kept}}
),

attempted as (
    select
        _file,
        _row,
        {{attempted}}
    from raw_rows
),

mapped as (
    select
        *,
        {{mapped}}
    from attempted
),

texts as (
    select
        *,
        {{texts}}
    from mapped
),

parsed as (
    select
        *,
        {{parsed}}
    from texts
),

amounts as (
    select
        *,
        {{amounts}}
    from parsed
),

typed as (
    select
        *,
        {{typed}}
    from amounts
),

final as (
    select
        _file,
        _row,
        {{fields}},
        nullif(concat_ws('; ',
            {{reasons}}
        ), '') as _reason,
        {{row_id}} as _id,
        null::struct(file varchar, row bigint) as _duplicate_of
    from typed
)

select * from final
