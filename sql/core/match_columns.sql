-- The match columns of one customers source (sources[].match_columns): extra attributes the matcher
-- compares, evaluated on each record's raw row (raw keeps every column of the source file).
-- Grain: one row per customer record of the source in core.customer_records. Key: record_source, record_id.
-- Parameters: $source. {{raw_table}}: raw.<source>; {{columns}}: `<sql> as <name>` per match column, the
-- sql built by tasks/dedupe/__init__.py from the config's expression (checked by
-- tasks.shared.expressions.check_expression): `try(<expression>)` for the values (null on a row where the
-- expression fails), or a 0/1 flag of such rows whose read columns have a value, counted in the run summary.
with customer_records as (
    select * from core.customer_records where source = $source
),

raw_values as (
    select
        _file,
        _row,
        {{columns}}
    from {{raw_table}}
),

final as (
    select
        customer_records.source as record_source,
        customer_records.source_id as record_id,
        raw_values.* exclude (_file, _row)
    from customer_records
    join raw_values
        on raw_values._file = customer_records._file
        and raw_values._row = customer_records._row
)

select * from final
