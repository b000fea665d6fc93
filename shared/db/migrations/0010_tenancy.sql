-- Tenancy: every row a caller owns belongs to one tenant (shared/db/scope.py applies it).
-- Rows written before this migration go to the 'default' tenant; the column has no default
-- afterwards, so a statement that forgets the tenant fails instead of writing a shared row.
-- Assistants: NULL is a system assistant (one per graph, made at start-up), seen by every
-- tenant. Runs and crons keep the request context (shared/auth/context.py) that created them:
-- the executor, cron and the webhook deliverer act in its name.

ALTER TABLE assistants ADD COLUMN tenant_id text DEFAULT 'default';
UPDATE assistants SET tenant_id = NULL WHERE metadata->>'created_by' = 'system';
ALTER TABLE assistants ALTER COLUMN tenant_id DROP DEFAULT;
CREATE INDEX assistants_tenant ON assistants (tenant_id);

ALTER TABLE threads ADD COLUMN tenant_id text NOT NULL DEFAULT 'default';
ALTER TABLE threads ALTER COLUMN tenant_id DROP DEFAULT;
CREATE INDEX threads_tenant ON threads (tenant_id, updated_at);

ALTER TABLE runs ADD COLUMN tenant_id text NOT NULL DEFAULT 'default';
ALTER TABLE runs ALTER COLUMN tenant_id DROP DEFAULT;
ALTER TABLE runs ADD COLUMN request_context jsonb;
CREATE INDEX runs_tenant_pending ON runs (tenant_id, available_at, seq) WHERE status = 'pending';

ALTER TABLE crons ADD COLUMN tenant_id text NOT NULL DEFAULT 'default';
ALTER TABLE crons ALTER COLUMN tenant_id DROP DEFAULT;
ALTER TABLE crons ADD COLUMN request_context jsonb;
CREATE INDEX crons_tenant ON crons (tenant_id);

-- A webhook delivery outlives its run (a stateless run goes with its thread): it keeps the
-- run's tenant and request context.
ALTER TABLE webhook_deliveries ADD COLUMN tenant_id text NOT NULL DEFAULT 'default';
ALTER TABLE webhook_deliveries ALTER COLUMN tenant_id DROP DEFAULT;
ALTER TABLE webhook_deliveries ADD COLUMN request_context jsonb;
