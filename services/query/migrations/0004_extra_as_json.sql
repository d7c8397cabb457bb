-- Unknown fields are kept as the raw record wrote them. jsonb rewrote numbers
-- (1.7976931348623157e308 became 309 digits, which serde_json and other
-- readers refuse, so such an event could not be looked up); json keeps the
-- text. Nothing queries inside extra, so jsonb's operators are not missed.
-- Rewrites the table once, under an exclusive lock.
ALTER TABLE events ALTER COLUMN extra TYPE json USING extra::json;
