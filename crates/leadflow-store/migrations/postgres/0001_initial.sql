-- leadflow store, first schema (PostgreSQL). Instants are unix milliseconds (BIGINT).
CREATE TABLE records (
    portal TEXT NOT NULL,
    object_type TEXT NOT NULL,
    id TEXT NOT NULL,
    properties TEXT NOT NULL,
    created_at BIGINT,
    updated_at BIGINT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    archived_at BIGINT,
    email TEXT,
    lead_source TEXT,
    icp_type TEXT,
    icp_fit_score DOUBLE PRECISION,
    lead_score DOUBLE PRECISION,
    response_status TEXT,
    qualification_status TEXT,
    campaign_tag TEXT,
    session_id TEXT,
    message_strategy TEXT,
    last_outreach_date TEXT,
    last_activity_date TEXT,
    owner_id TEXT,
    PRIMARY KEY (portal, object_type, id)
);
CREATE INDEX records_updated ON records (portal, object_type, updated_at);
CREATE INDEX records_email ON records (portal, email);

CREATE TABLE associations (
    portal TEXT NOT NULL,
    from_type TEXT NOT NULL,
    from_id TEXT NOT NULL,
    to_type TEXT NOT NULL,
    to_id TEXT NOT NULL,
    type_id INTEGER NOT NULL,
    PRIMARY KEY (portal, from_type, from_id, to_type, to_id, type_id)
);
CREATE INDEX associations_to ON associations (portal, to_type, to_id);

CREATE TABLE sync_cursors (
    portal TEXT NOT NULL,
    stream TEXT NOT NULL,
    cursor TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (portal, stream)
);

CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    portal TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    source TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    observed_at BIGINT NOT NULL,
    property TEXT,
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX events_object ON events (portal, object_type, object_id, seq);

CREATE TABLE queue (
    id BIGSERIAL PRIMARY KEY,
    portal TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until BIGINT,
    last_error TEXT,
    UNIQUE (portal, key)
);
CREATE INDEX queue_ready ON queue (state, run_at, id);
