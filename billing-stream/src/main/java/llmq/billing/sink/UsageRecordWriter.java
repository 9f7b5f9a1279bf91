package llmq.billing.sink;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import llmq.avro.BillingRecord;
import llmq.avro.UsageEvent;

/**
 * Writes billing records into {@code usage_records}, one row per request id, in one
 * transaction per batch. Idempotent: a request id already present is left as it is
 * ({@code ON CONFLICT DO NOTHING}), so replays and restarts never double-count. Duplicates
 * within a batch are merged first (the first one wins).
 *
 * <p>The batch travels as one {@code INSERT ... SELECT FROM unnest(arrays)} statement: one
 * round trip like a rewritten batch, but with an exact count of the rows inserted (a JDBC batch
 * rewritten by {@code reWriteBatchedInserts} reports {@code SUCCESS_NO_INFO} instead).
 */
public final class UsageRecordWriter {

    private static final String INSERT = "INSERT INTO usage_records (request_id, tenant_id, model, endpoint, "
            + "prompt_tokens, completion_tokens, cached_prompt_tokens, estimated, currency, input_cost, output_cost, "
            + "total_cost, unpriced, latency_ms, attempt, used_at, billed_at) "
            + "SELECT request_id, tenant_id, model, endpoint, prompt_tokens, completion_tokens, cached_prompt_tokens, "
            + "estimated, currency, input_cost::numeric, output_cost::numeric, total_cost::numeric, unpriced, "
            + "latency_ms, attempt, timestamptz 'epoch' + used_at_ms * interval '1 millisecond', "
            + "timestamptz 'epoch' + billed_at_ms * interval '1 millisecond' "
            + "FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::int4[], ?::int4[], ?::int4[], ?::bool[], "
            + "?::text[], ?::text[], ?::text[], ?::text[], ?::bool[], ?::int8[], ?::int4[], ?::int8[], ?::int8[]) "
            + "AS u(request_id, tenant_id, model, endpoint, prompt_tokens, completion_tokens, cached_prompt_tokens, "
            + "estimated, currency, input_cost, output_cost, total_cost, unpriced, latency_ms, attempt, used_at_ms, "
            + "billed_at_ms) "
            + "ON CONFLICT (request_id) DO NOTHING";

    private UsageRecordWriter() {
    }

    /** Writes {@code records} in one transaction; returns the number of rows inserted. */
    public static int write(Connection c, Collection<BillingRecord> records) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            int inserted = insert(c, records);
            c.commit();
            return inserted;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /** Inserts {@code records} in the caller's transaction; returns the number of rows inserted. */
    public static int insert(Connection c, Collection<BillingRecord> records) throws SQLException {
        Map<String, BillingRecord> unique = new LinkedHashMap<>();
        records.forEach(r -> unique.putIfAbsent(r.getUsage().getRequestId(), r));
        if (unique.isEmpty()) {
            return 0;
        }
        int n = unique.size();
        String[] requestId = new String[n];
        String[] tenantId = new String[n];
        String[] model = new String[n];
        String[] endpoint = new String[n];
        Integer[] prompt = new Integer[n];
        Integer[] completion = new Integer[n];
        Integer[] cached = new Integer[n];
        Boolean[] estimated = new Boolean[n];
        String[] currency = new String[n];
        String[] inputCost = new String[n];
        String[] outputCost = new String[n];
        String[] totalCost = new String[n];
        Boolean[] unpriced = new Boolean[n];
        Long[] latency = new Long[n];
        Integer[] attempt = new Integer[n];
        Long[] usedAt = new Long[n];
        // billed_at is the record's own pricing time, not the write time: a row is a pure function of
        // its record, so rebuilding the table by replaying llm.billing gives identical rows
        Long[] billedAt = new Long[n];
        int i = 0;
        for (BillingRecord r : unique.values()) {
            UsageEvent u = r.getUsage();
            requestId[i] = u.getRequestId();
            tenantId[i] = u.getTenantId();
            model[i] = u.getModel();
            endpoint[i] = u.getEndpoint();
            prompt[i] = u.getPromptTokens();
            completion[i] = u.getCompletionTokens();
            cached[i] = u.getCachedPromptTokens();
            estimated[i] = u.getEstimated();
            currency[i] = r.getCurrency();
            // decimal text, never scientific notation, so PostgreSQL parses the exact value
            inputCost[i] = r.getInputCost().toPlainString();
            outputCost[i] = r.getOutputCost().toPlainString();
            totalCost[i] = r.getTotalCost().toPlainString();
            unpriced[i] = r.getUnpriced();
            latency[i] = u.getLatencyMs();
            attempt[i] = u.getAttempt();
            usedAt[i] = u.getAt().toEpochMilli();
            billedAt[i] = r.getBilledAt().toEpochMilli();
            i++;
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT)) {
            int p = 1;
            ps.setArray(p++, c.createArrayOf("text", requestId));
            ps.setArray(p++, c.createArrayOf("text", tenantId));
            ps.setArray(p++, c.createArrayOf("text", model));
            ps.setArray(p++, c.createArrayOf("text", endpoint));
            ps.setArray(p++, c.createArrayOf("int4", prompt));
            ps.setArray(p++, c.createArrayOf("int4", completion));
            ps.setArray(p++, c.createArrayOf("int4", cached));
            ps.setArray(p++, c.createArrayOf("bool", estimated));
            ps.setArray(p++, c.createArrayOf("text", currency));
            ps.setArray(p++, c.createArrayOf("text", inputCost));
            ps.setArray(p++, c.createArrayOf("text", outputCost));
            ps.setArray(p++, c.createArrayOf("text", totalCost));
            ps.setArray(p++, c.createArrayOf("bool", unpriced));
            ps.setArray(p++, c.createArrayOf("int8", latency));
            ps.setArray(p++, c.createArrayOf("int4", attempt));
            ps.setArray(p++, c.createArrayOf("int8", usedAt));
            ps.setArray(p, c.createArrayOf("int8", billedAt));
            return ps.executeUpdate();
        }
    }
}
