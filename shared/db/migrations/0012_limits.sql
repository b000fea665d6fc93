-- Per-tenant limits (shared/services/limits.py) and the state that enforces them across
-- replicas. No foreign key to a tenants table: limits may be set for a tenant id before it
-- has keys or runs, and outlive them.

-- Overrides of the LG_DEPLOY_TENANT_* defaults; NULL = the default applies.
CREATE TABLE tenant_limits (
    tenant_id           text        PRIMARY KEY,
    max_running_runs    integer     CHECK (max_running_runs >= 0),
    max_queued_runs     integer     CHECK (max_queued_runs >= 0),
    requests_per_window integer     CHECK (requests_per_window >= 0),
    max_streams         integer     CHECK (max_streams >= 0),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- The state below is UNLOGGED (no WAL: cheap to write on every claim and every batch of
-- requests). A PostgreSQL crash empties it, which costs one rate window's count, the open
-- streams' leases and the claim history: nothing a run depends on.

-- Request rate: one fixed window per tenant (window_no = floor(epoch / window seconds));
-- ``used`` counts the requests granted to intake replicas in it, ``granted`` the last grant.
CREATE UNLOGGED TABLE tenant_request_windows (
    tenant_id text    PRIMARY KEY,
    window_no bigint  NOT NULL,
    used      integer NOT NULL,
    granted   integer NOT NULL
);

-- Open streams: one lease per stream in one of the tenant's numbered slots (slot < the
-- limit, so the primary key caps them), renewed while the stream is open; an expired lease is
-- free again, so a crashed replica's streams stop counting.
CREATE UNLOGGED TABLE stream_leases (
    tenant_id  text        NOT NULL,
    slot       integer     NOT NULL,
    lease_id   uuid        NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, slot)
);

-- Fair claims: when each tenant last had runs claimed (least recently served first).
CREATE UNLOGGED TABLE tenant_claims (
    tenant_id       text        PRIMARY KEY,
    last_claimed_at timestamptz NOT NULL
);

-- running runs per tenant, counted by every claim
CREATE INDEX runs_tenant_running ON runs (tenant_id) WHERE status = 'running';
-- "an older pending run on the same thread": one probe, however many ended runs the thread
-- has (without it a thread with a long queue made each claim quadratic in its length)
CREATE INDEX runs_thread_pending ON runs (thread_id, seq) WHERE status = 'pending';
