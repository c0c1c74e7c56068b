-- Statement: a row of _checked that repeats a kept row with the same values points at it (_duplicate_of).
-- Grain: updates one row of _checked per row of _ranked with same_values. Parameters: none.
update _checked
set _duplicate_of = struct_pack(file := r.first.file, "row" := r.first.row)
from _ranked as r
where _checked._file = r._file
    and _checked._row = r._row
    and r.same_values
