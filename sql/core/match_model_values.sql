-- Table: core.match_model_values, the frequency tables of the fitted matcher (core.match_model).
-- Grain: one row per comparison (or text column), kind and value. Key: comparison, kind, value.
-- Parameters: none. Input: temp table _match_model_values written by tasks/dedupe/model.py (store_model).
-- kind term_frequency: share of the fit's records with the value (an exact agreement weighs by it);
-- kind tokens: records whose text has the token (value) and total, the records with a text (the weight
-- of a token is ln((total + 1) / records)); a row with a null value keeps the total of a column.
with model_values as (
    select * from _match_model_values
),

final as (
    select
        comparison,
        kind,
        value,
        share,
        records,
        total
    from model_values
)

select * from final
