-- Security and tenancy (issue #11): API keys stored as hashes only, per-tenant quotas and
-- retention, and the audit log of administrative actions.

-- Tenants beyond `default` (1) are created by `logpipe tenants create` and POST /api/v1/tenants.
CREATE SEQUENCE tenants_id_seq AS integer START 2 OWNED BY tenants.id;
ALTER TABLE tenants ALTER COLUMN id SET DEFAULT nextval('tenants_id_seq');
ALTER TABLE tenants
  ADD COLUMN max_logs_per_day  bigint  CHECK (max_logs_per_day > 0),   -- NULL: no quota
  ADD COLUMN max_bytes_per_day bigint  CHECK (max_bytes_per_day > 0),
  ADD COLUMN retention_days    integer CHECK (retention_days > 0);     -- NULL: the setting's

-- A key is "lpk_<id>_<secret>": the id is public (lists, the audit log, revoke name it), the
-- secret is 256 random bits. Only the SHA-256 of the whole key is kept; a lookup finds the row by
-- id and compares hashes in constant time.
CREATE TABLE api_keys (
  id                  text        PRIMARY KEY,
  tenant_id           integer     NOT NULL REFERENCES tenants (id),
  name                text        NOT NULL,
  hash                bytea       NOT NULL CHECK (length(hash) = 32),
  scopes              text[]      NOT NULL,
  requests_per_second integer     CHECK (requests_per_second > 0),  -- NULL: the server default
  logs_per_second     integer     CHECK (logs_per_second > 0),
  created_at          timestamptz NOT NULL DEFAULT now(),
  expires_at          timestamptz,
  revoked_at          timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

-- Who did what, when, from where: key and tenant changes, deletes of logs and apps, DLQ replays
-- and deletes, alert-rule changes. Written in the same transaction as the change where there is
-- one.
CREATE TABLE audit_log (
  id          bigserial   PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  tenant_id   integer     NOT NULL,
  key_id      text,                 -- NULL: auth = "none", or the command line
  action      text        NOT NULL, -- key.create, key.revoke, tenant.create, logs.delete, …
  target      text,                 -- what it acted on: a key id, a tenant, an app, a log id
  detail      jsonb       NOT NULL DEFAULT '{}',
  remote_addr text,
  request_id  text
);
CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at DESC);
