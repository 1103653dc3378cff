-- Alerts (issue #12): the rules a tenant defines, the episodes they fire, and every notification
-- attempt. The evaluator reads the enabled rules, keeps one open episode per rule and group, and
-- appends a delivery row per attempt; the API lists the history.

-- One rule. `filter` is the search's filter parameters (query/logs.hpp) as a JSON object, e.g.
-- {"level":"ERROR"} or {"service":"payment-service","min_level":"WARNING"}; `notify` an array of
-- targets ({"type":"webhook"|"slack"|"alertmanager","url":…}); `labels` static labels for
-- Alertmanager. `secret` is the HMAC-SHA256 key of webhook signatures: never sent back by a read.
CREATE TABLE alert_rules (
  id               bigserial   PRIMARY KEY,
  tenant_id        integer     NOT NULL REFERENCES tenants (id),
  name             text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind             text        NOT NULL CHECK (kind IN ('threshold', 'absence', 'match')),
  filter           jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(filter) = 'object'),
  threshold        bigint      CHECK (threshold >= 1),  -- threshold rules only: fire at count ≥ it
  window_seconds   integer     NOT NULL CHECK (window_seconds BETWEEN 1 AND 86400),
  group_by         text[]      NOT NULL DEFAULT '{}',
  cooldown_seconds integer     NOT NULL DEFAULT 300 CHECK (cooldown_seconds BETWEEN 0 AND 86400),
  notify           jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(notify) = 'array'),
  secret           text        NOT NULL,
  enabled          boolean     NOT NULL DEFAULT true,
  labels           jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'threshold') = (threshold IS NOT NULL)),
  UNIQUE (tenant_id, name)
);
-- The evaluator's read: every enabled rule of every tenant.
CREATE INDEX alert_rules_enabled ON alert_rules (id) WHERE enabled;

-- One episode of a rule and group: opened firing, closed when resolved. The rule's name is
-- copied and rule_id goes NULL when the rule is deleted: the history outlives its rule.
CREATE TABLE alert_events (
  id               bigserial   PRIMARY KEY,
  tenant_id        integer     NOT NULL REFERENCES tenants (id),
  rule_id          bigint      REFERENCES alert_rules (id) ON DELETE SET NULL,
  rule_name        text        NOT NULL,
  group_labels     jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(group_labels) = 'object'),
  state            text        NOT NULL CHECK (state IN ('firing', 'resolved')),
  fired_at         timestamptz NOT NULL DEFAULT now(),
  resolved_at      timestamptz,
  count            bigint      NOT NULL DEFAULT 0,
  sample           jsonb,      -- one matching record (match rules)
  last_notified_at timestamptz,
  CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
);
-- GET /api/v1/alerts/events: a tenant's episodes newest first, keyset paged on (fired_at, id).
CREATE INDEX alert_events_tenant_fired ON alert_events (tenant_id, fired_at DESC, id DESC);
-- … of one rule.
CREATE INDEX alert_events_rule_fired ON alert_events (rule_id, fired_at DESC, id DESC);
-- The evaluator's open episodes (restored after a restart); at most one per rule and group.
CREATE UNIQUE INDEX alert_events_open ON alert_events (rule_id, group_labels) WHERE state = 'firing';

-- One notification attempt of an episode's transition. target_url never holds a secret (the
-- rule's secret signs, it is not sent).
CREATE TABLE alert_deliveries (
  id          bigserial   PRIMARY KEY,
  event_id    bigint      NOT NULL REFERENCES alert_events (id) ON DELETE CASCADE,
  transition  text        NOT NULL CHECK (transition IN ('firing', 'resolved')),
  target_type text        NOT NULL,
  target_url  text        NOT NULL,
  attempt     integer     NOT NULL CHECK (attempt >= 1),
  ok          boolean     NOT NULL,
  status      integer,    -- the receiver's HTTP status; NULL when none came (refused, timeout)
  error       text,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_deliveries_event ON alert_deliveries (event_id, id);
