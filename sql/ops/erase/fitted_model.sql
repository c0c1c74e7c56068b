-- Erase: delete every row of a fitted model's table (tasks.erase.tables.FITTED_MODELS): a model learnt from
-- everyone's rows, the person's included, is dropped, and the next run fits it again without them.
-- Grain: one deleted row per row of the table; returns the count.
-- Parameters: none. Filled in: fitted (the table).
delete from {{fitted}}
