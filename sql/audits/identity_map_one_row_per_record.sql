-- Audit: a customer record mapped to more than one customer, or to none.
select source, source_id, count(*) as rows, count(customer_id) as customers
from core.identity_map
group by source, source_id
having count(*) <> 1 or count(customer_id) <> 1
