-- Audit: a customer appears more than once in the segments about to be published.
select customer_id, count(*) as rows
from segments.customer_segments
group by customer_id
having count(*) > 1
