-- The workflow engine: who entered which workflow on which trigger value, and the outbox of
-- intended HubSpot writes, each with its idempotency key, state and result.
CREATE TABLE workflow_enrollments (
    portal TEXT NOT NULL,
    workflow TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    trigger_value TEXT NOT NULL,
    event_seq BIGINT,
    enrolled_at BIGINT NOT NULL,
    PRIMARY KEY (portal, workflow, contact_id, trigger_value)
);
CREATE INDEX workflow_enrollments_contact ON workflow_enrollments (portal, contact_id, enrolled_at);

CREATE TABLE intents (
    id BIGSERIAL PRIMARY KEY,
    portal TEXT NOT NULL,
    key TEXT NOT NULL,
    workflow TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_at BIGINT NOT NULL,
    lease_until BIGINT,
    result TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (portal, key)
);
CREATE INDEX intents_ready ON intents (portal, action, state, run_at, id);
CREATE INDEX intents_contact ON intents (portal, contact_id, id);
