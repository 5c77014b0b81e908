-- Webhook events, stored durably before HubSpot gets its 2xx; deduplicated by event key.
CREATE TABLE webhook_events (
    portal TEXT NOT NULL,
    event_key TEXT NOT NULL,
    subscription_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    property_name TEXT,
    property_value TEXT,
    payload TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    processed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (portal, event_key)
);
CREATE INDEX webhook_events_pending ON webhook_events (portal, processed, occurred_at);
