-- What billing-stream's Debezium engine needs to stream the config tables into llm.config.*:
-- before-images of updates and deletes, a heartbeat row that proves the stream is live (and
-- keeps the replication slot advancing while the config tables are idle), and the publication,
-- created here by the tables' owner so that the replication role needs no more than SELECT.
-- The replication role itself (LOGIN REPLICATION) is created by an operator; see docs/billing.md.

ALTER TABLE model_prices REPLICA IDENTITY FULL;
ALTER TABLE tenants REPLICA IDENTITY FULL;
ALTER TABLE api_keys REPLICA IDENTITY FULL;

CREATE TABLE cdc_heartbeat (
    id     integer PRIMARY KEY CHECK (id = 1),
    token  text NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO cdc_heartbeat (id, token) VALUES (1, 'initial');

CREATE PUBLICATION llmq_config FOR TABLE model_prices, tenants, api_keys, cdc_heartbeat;
