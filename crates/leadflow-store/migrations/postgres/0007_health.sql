-- Health metrics that outlive the process that measured them (`leadflow status` reads
-- them; `serve` and every command that calls HubSpot write them).
-- API latency: one row per flush of a client's latency histogram, its recorded values
-- as JSON pairs [[microseconds, count], ...], with the daily budget seen at that time.
CREATE TABLE api_latency (
    portal TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    calls BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    histogram TEXT NOT NULL,
    daily_remaining BIGINT,
    daily_limit BIGINT
);
CREATE INDEX api_latency_by_time ON api_latency (portal, recorded_at);

-- Report accuracy: the store's live count of each object type beside the portal's own
-- count, taken at the same time.
CREATE TABLE count_checks (
    portal TEXT NOT NULL,
    checked_at BIGINT NOT NULL,
    object_type TEXT NOT NULL,
    store_count BIGINT NOT NULL,
    portal_count BIGINT NOT NULL,
    PRIMARY KEY (portal, checked_at, object_type)
);
