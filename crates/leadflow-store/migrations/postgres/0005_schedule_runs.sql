-- The scheduler: one row per (portal, schedule, slot) claimed. The primary key is the
-- claim: a second worker's INSERT for the same slot does nothing, so a slot runs once.
CREATE TABLE schedule_runs (
    portal TEXT NOT NULL,
    schedule TEXT NOT NULL,
    slot_at BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    outcome TEXT,
    PRIMARY KEY (portal, schedule, slot_at)
);
