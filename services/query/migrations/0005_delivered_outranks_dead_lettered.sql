-- `delivered` now outranks `dead_lettered` within a generation (rank 3, was
-- 2 like every outcome): a redelivery that gives up at a higher attempt must
-- not hide that the target has the event. Rows and the orders derived from a
-- delivered record move to the new rank, so the store's comparisons and a
-- rebuild from Kafka agree.
UPDATE events SET last_http_order = ARRAY[status_generation, 3, status_attempt]
    WHERE status = 'delivered'
      AND last_http_order = ARRAY[status_generation, status_rank, status_attempt];
UPDATE events SET last_error_order = ARRAY[status_generation, 3, status_attempt]
    WHERE status = 'delivered'
      AND last_error_order = ARRAY[status_generation, status_rank, status_attempt];
UPDATE events SET status_rank = 3 WHERE status = 'delivered';
