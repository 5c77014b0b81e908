-- Scheduled reports to send by email: one row per archived report (a schedule's slot),
-- kept until it is sent or given up on, so an SMTP failure is retried on later scheduler
-- ticks with backoff and the report itself stays archived whatever happens to the mail.
-- A send is claimed by its lease (a conditional UPDATE), so two workers never send one
-- report at the same time.
CREATE TABLE report_deliveries (
    portal TEXT NOT NULL,
    schedule TEXT NOT NULL,
    slot_at BIGINT NOT NULL,
    dir TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    PRIMARY KEY (portal, schedule, slot_at)
);
CREATE INDEX report_deliveries_due ON report_deliveries (portal, state, next_at);
