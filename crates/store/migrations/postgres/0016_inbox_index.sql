-- A reviewer's inbox (its counts per campaign and the order of its pages) read from the index
-- alone: with the frozen account beside each item, reading the rows of a department head's
-- thousands of items was most of the inbox's time.
DROP INDEX review_items_by_reviewer;
CREATE INDEX review_items_by_reviewer ON review_items (reviewer, campaign_id, decision, unchanged, system, username, id);
