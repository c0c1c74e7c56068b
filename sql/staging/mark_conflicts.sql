-- Statement: a row of _checked with the id of a kept row but other values is quarantined (_reason).
-- Grain: updates one row of _checked per row of _ranked without same_values. Parameters: none.
-- Template: id_field names the id in the reason; tie says what a version shares with the kept one (or nothing).
update _checked
set _reason = 'duplicate {{id_field}} ''' || r.id || '''{{tie}} with other values than '
    || r.first.file || ' row ' || r.first.row
from _ranked as r
where _checked._file = r._file
    and _checked._row = r._row
    and not r.same_values
