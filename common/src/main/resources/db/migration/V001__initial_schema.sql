-- Tenants, their API keys (hashes only), model prices, and one billed row per request.

CREATE TABLE tenants (
    id               text PRIMARY KEY,
    name             text NOT NULL,
    tier             text NOT NULL DEFAULT 'standard',
    default_priority text NOT NULL DEFAULT 'normal'
        CHECK (default_priority IN ('realtime', 'high', 'normal', 'low')),
    max_priority     text NOT NULL DEFAULT 'high'
        CHECK (max_priority IN ('realtime', 'high', 'normal', 'low')),
    weight           numeric(10, 3) NOT NULL DEFAULT 1 CHECK (weight > 0),
    rpm_limit        integer CHECK (rpm_limit > 0),
    tpm_limit        integer CHECK (tpm_limit > 0),
    monthly_budget   numeric(20, 6) CHECK (monthly_budget >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    key_hash    text NOT NULL UNIQUE,
    name        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE model_prices (
    id                        bigserial PRIMARY KEY,
    model                     text NOT NULL,
    currency                  text NOT NULL DEFAULT 'USD',
    input_per_million         numeric(18, 6) NOT NULL CHECK (input_per_million >= 0),
    output_per_million        numeric(18, 6) NOT NULL CHECK (output_per_million >= 0),
    cached_input_per_million  numeric(18, 6) CHECK (cached_input_per_million >= 0),
    effective_from            timestamptz NOT NULL DEFAULT '1970-01-01T00:00:00Z',
    UNIQUE (model, effective_from)
);

CREATE TABLE usage_records (
    request_id            text PRIMARY KEY,
    tenant_id             text NOT NULL,
    model                 text NOT NULL,
    endpoint              text,
    prompt_tokens         integer NOT NULL,
    completion_tokens     integer NOT NULL,
    cached_prompt_tokens  integer NOT NULL DEFAULT 0,
    estimated             boolean NOT NULL DEFAULT false,
    currency              text NOT NULL,
    input_cost            numeric(38, 12) NOT NULL,
    output_cost           numeric(38, 12) NOT NULL,
    total_cost            numeric(38, 12) NOT NULL,
    unpriced              boolean NOT NULL DEFAULT false,
    latency_ms            integer,
    attempt               integer,
    used_at               timestamptz NOT NULL,
    billed_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_records_tenant_time ON usage_records (tenant_id, used_at);
