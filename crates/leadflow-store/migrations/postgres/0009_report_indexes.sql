-- Reports over 1,000,000 contacts in well under a second: covering indexes, so that every
-- report query reads a narrow index instead of the records' JSON, and reads it in an order
-- that needs no sort.
-- Grouped counts (breakdowns, widgets, panels): grouped in this column order, SQLite
-- aggregates while it scans.
CREATE INDEX records_report_groups ON records (portal, object_type, archived, lead_source, icp_type, campaign_tag, message_strategy, response_status, qualification_status, session_id, created_at, icp_fit_score, lead_score);
-- Counts per day or week of creation (Activity Timeline, Response Rate Trends): one range
-- per bucket; distinct sessions (Session Productivity Score) in one scan.
CREATE INDEX records_report_created ON records (portal, object_type, archived, lead_source, created_at, response_status, qualification_status, icp_type, campaign_tag, session_id);
-- Counts per lead score bucket (Lead Score Distribution): one range per bucket.
CREATE INDEX records_report_score ON records (portal, object_type, archived, lead_source, lead_score, created_at, icp_type, campaign_tag);
-- Whether an event's or a deal's contact is in a report, answered from an index (Activity
-- Timeline, Pipeline Value Created).
CREATE INDEX records_report_id ON records (portal, object_type, id, archived, lead_source, created_at, icp_type, campaign_tag);
-- Changes of one property over a period (responses and qualifications per day).
CREATE INDEX events_report ON events (portal, object_type, property, occurred_at, new_value, old_value, object_id);
-- Links to a deal read from the contact's side, answered from an index (Pipeline Value
-- Created).
CREATE INDEX associations_report_to ON associations (portal, to_type, to_id, from_type, from_id);
