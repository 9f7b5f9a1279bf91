-- Usage aggregates upserted by billing-stream's sink (the current value of each Streams
-- aggregate, never an increment), and the output of the re-rating command.

CREATE TABLE usage_hourly (
    tenant_id             text NOT NULL,
    model                 text NOT NULL,
    currency              text NOT NULL,
    hour_start            timestamptz NOT NULL,
    requests              bigint NOT NULL,
    prompt_tokens         bigint NOT NULL,
    completion_tokens     bigint NOT NULL,
    cached_prompt_tokens  bigint NOT NULL,
    input_cost            numeric(38, 12) NOT NULL,
    output_cost           numeric(38, 12) NOT NULL,
    total_cost            numeric(38, 12) NOT NULL,
    unpriced_requests     bigint NOT NULL,
    updated_at            timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, hour_start, model, currency)
);

CREATE TABLE usage_daily (
    tenant_id             text NOT NULL,
    currency              text NOT NULL,
    day                   date NOT NULL,
    requests              bigint NOT NULL,
    prompt_tokens         bigint NOT NULL,
    completion_tokens     bigint NOT NULL,
    cached_prompt_tokens  bigint NOT NULL,
    input_cost            numeric(38, 12) NOT NULL,
    output_cost           numeric(38, 12) NOT NULL,
    total_cost            numeric(38, 12) NOT NULL,
    unpriced_requests     bigint NOT NULL,
    updated_at            timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, day, currency)
);

-- One row per re-rating run; its priced rows are in usage_rerated. usage_records is never touched.
CREATE TABLE rerate_runs (
    run_id       text PRIMARY KEY,
    range_from   timestamptz NOT NULL,
    range_to     timestamptz NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    requests     bigint,
    unpriced     bigint,
    CHECK (range_from < range_to)
);

CREATE TABLE usage_rerated (
    run_id                          text NOT NULL REFERENCES rerate_runs (run_id),
    request_id                      text NOT NULL,
    tenant_id                       text NOT NULL,
    model                           text NOT NULL,
    prompt_tokens                   integer NOT NULL,
    completion_tokens               integer NOT NULL,
    cached_prompt_tokens            integer NOT NULL,
    currency                        text NOT NULL,
    input_price_per_million         numeric(18, 6),
    output_price_per_million        numeric(18, 6),
    cached_input_price_per_million  numeric(18, 6),
    price_effective_from            timestamptz,
    input_cost                      numeric(38, 12) NOT NULL,
    output_cost                     numeric(38, 12) NOT NULL,
    total_cost                      numeric(38, 12) NOT NULL,
    unpriced                        boolean NOT NULL,
    used_at                         timestamptz NOT NULL,
    PRIMARY KEY (run_id, request_id)
);
CREATE INDEX usage_rerated_tenant_time ON usage_rerated (run_id, tenant_id, used_at);
