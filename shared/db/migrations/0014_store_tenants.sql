-- The store's items belong to tenants (shared/runtime/tenant_store.py): every namespace starts
-- with its tenant's label. Items stored before tenancy go to the 'default' tenant: 'ns.a'
-- becomes 'default.ns.a', in store and in store_vectors (its embeddings; the foreign key holds
-- at the end of each statement, which updates both). Two steps, so that no row ever takes the
-- prefix another row still has (unique keys are checked row by row): first '.ns.a', which no
-- namespace can have (labels are never empty), then 'default.ns.a'.
-- The store's tables are langgraph-checkpoint-postgres's, made after this file on a new
-- database (shared/db/migrate.py setup_store_tables): then there is nothing to move.

DO $$
BEGIN
  IF to_regclass('store') IS NULL THEN
    RETURN;
  END IF;
  IF to_regclass('store_vectors') IS NULL THEN
    UPDATE store SET prefix = '.' || prefix;
    UPDATE store SET prefix = 'default' || prefix;
  ELSE
    WITH v AS (UPDATE store_vectors SET prefix = '.' || prefix)
    UPDATE store SET prefix = '.' || prefix;
    WITH v AS (UPDATE store_vectors SET prefix = 'default' || prefix)
    UPDATE store SET prefix = 'default' || prefix;
  END IF;
END $$;
