-- The checks read every access-review decision (movers reviewed in time) and the administrators
-- kept in closed campaigns on each readiness run: without these, each read scanned every item
-- of every campaign with its frozen account.
CREATE INDEX review_items_decided ON review_items (decided_at);
CREATE INDEX review_items_by_campaign ON review_items (campaign_id, decision, privileged);
