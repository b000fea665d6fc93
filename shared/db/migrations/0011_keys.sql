-- Built-in API keys (shared/auth/keys.py): tenants, and keys each of one tenant with one role.
-- A key is kept only as the SHA-256 of its secret (key_hash), never in clear. A revoked key keeps
-- its row (revoked_at) and its name may be given to a new key. The 'default' tenant holds every
-- row of an open deployment (migration 0010) and the deployment's own administrators.

CREATE TABLE tenants (
    tenant_id  text PRIMARY KEY,
    name       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tenants (tenant_id, name) VALUES ('default', 'default');

CREATE TABLE api_keys (
    key_id       uuid PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (tenant_id),
    name         text,
    role         text NOT NULL CHECK (role IN ('viewer', 'developer', 'operator', 'admin')),
    key_hash     bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE UNIQUE INDEX api_keys_live_name ON api_keys (tenant_id, name) WHERE revoked_at IS NULL;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);
