-- The audit log (shared/db/audit.py): security-relevant requests at intake's edge, one row
-- each, and refused requests (401/403) counted per minute, tenant, identity, client and status.
-- Append-only: a statement trigger refuses every UPDATE, DELETE and TRUNCATE, whoever runs it
-- (only a table owner who drops the trigger can change history, and that is a DDL change).

CREATE TABLE audit_log (
    audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL,   -- the request's arrival; a count's minute
    tenant_id text,                     -- NULL: the caller was not authenticated (401)
    identity text,                      -- NULL: not authenticated, or an open deployment
    role text,
    action text NOT NULL,               -- <resource>.<verb>: threads.delete, auth.forbidden…
    resource_type text,
    resource_id text,
    method text,                        -- NULL on a count of refused requests
    path text,
    status smallint NOT NULL,           -- the HTTP status answered
    client text,                        -- the client address (see README "Audit log")
    request_id text,
    count integer NOT NULL DEFAULT 1 CHECK (count >= 1)
);

CREATE INDEX audit_log_tenant_time ON audit_log (tenant_id, occurred_at DESC, audit_id DESC);

CREATE FUNCTION lgd_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION lgd_audit_log_append_only();
