-- Audit: rows without a customer id or with another as_of than the one being published.
select *
from segments.customer_segments
where customer_id is null
    or as_of is distinct from $as_of
