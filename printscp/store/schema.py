"""Versioned migrations: PRAGMA user_version counts the scripts applied, in order."""

MIGRATIONS = [
    """
    CREATE TABLE jobs (
        job_id TEXT PRIMARY KEY,
        folder TEXT NOT NULL,            -- relative to the output folder
        state TEXT NOT NULL,
        calling_ae TEXT NOT NULL DEFAULT '',
        called_ae TEXT NOT NULL DEFAULT '',
        printer TEXT NOT NULL DEFAULT '',  -- the profile's printer name
        profile TEXT NOT NULL DEFAULT '',
        label TEXT NOT NULL DEFAULT '',    -- Film Session Label
        queued TEXT NOT NULL DEFAULT '',
        finished TEXT NOT NULL DEFAULT '',
        films INTEGER NOT NULL DEFAULT 0,
        copies INTEGER NOT NULL DEFAULT 1,
        warnings INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        worst TEXT NOT NULL DEFAULT 'success',
        error TEXT,
        pdf TEXT                         -- relative to the output folder
    );
    CREATE INDEX jobs_by_time ON jobs (queued DESC);
    CREATE INDEX jobs_by_ae ON jobs (calling_ae, queued DESC);
    CREATE INDEX jobs_by_state ON jobs (state, queued DESC);
    CREATE INDEX jobs_by_printer ON jobs (called_ae, queued DESC);
    CREATE INDEX jobs_by_label ON jobs (label);
    CREATE TABLE films (
        job_id TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        file TEXT,                       -- relative to the output folder
        thumbnail TEXT,                  -- relative to the output folder
        width_mm REAL, height_mm REAL, dpi INTEGER,
        format TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (job_id, number)
    );
    CREATE TABLE associations (
        id TEXT PRIMARY KEY,
        started TEXT NOT NULL,
        ended TEXT,
        calling_ae TEXT NOT NULL DEFAULT '',
        called_ae TEXT NOT NULL DEFAULT '',
        printer TEXT,
        peer TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL DEFAULT '',
        requests INTEGER NOT NULL DEFAULT 0,
        warnings INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        jobs INTEGER NOT NULL DEFAULT 0,
        why_nothing_printed TEXT,
        file TEXT NOT NULL               -- the record, JSON, relative to the output folder
    );
    CREATE INDEX associations_by_time ON associations (started DESC);
    CREATE INDEX associations_by_ae ON associations (calling_ae, started DESC);
    CREATE TABLE association_jobs (
        association_id TEXT NOT NULL REFERENCES associations (id) ON DELETE CASCADE,
        job_id TEXT NOT NULL,
        PRIMARY KEY (association_id, job_id)
    );
    CREATE INDEX association_jobs_by_job ON association_jobs (job_id);
    """,
]
