package llmq.billing.sink;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import llmq.billing.internal.avro.Granularity;
import llmq.billing.internal.avro.UsageAggregate;
import llmq.billing.internal.avro.UsageTotals;

/**
 * Upserts aggregates into {@code usage_hourly} and {@code usage_daily}: each row takes the
 * aggregate's current value (never an increment), so writing the same values again, or an older
 * value followed by the newer one as a replay does, ends in the same rows. A value with fewer
 * requests than the row already has is older and is ignored, so a replay can never move a row
 * backwards. Several values of one aggregate in a batch are merged first (the one with the most
 * requests wins), since one multi-row upsert cannot touch a row twice.
 */
public final class AggregateWriter {

    private static final String COLUMNS = "requests, prompt_tokens, completion_tokens, cached_prompt_tokens, "
            + "input_cost, output_cost, total_cost, unpriced_requests, updated_at";
    private static final String UNNEST_TOTALS = "?::int8[], ?::int8[], ?::int8[], ?::int8[], ?::text[], ?::text[], "
            + "?::text[], ?::int8[], ?::int8[]";
    private static final String SELECT_TOTALS = "r, p, co, ca, ic::numeric, oc::numeric, tc::numeric, un, "
            + "timestamptz 'epoch' + up * interval '1 millisecond'";
    private static final String TOTALS_ALIAS = "r, p, co, ca, ic, oc, tc, un, up";
    private static final String UPDATE = "requests = EXCLUDED.requests, prompt_tokens = EXCLUDED.prompt_tokens, "
            + "completion_tokens = EXCLUDED.completion_tokens, cached_prompt_tokens = EXCLUDED.cached_prompt_tokens, "
            + "input_cost = EXCLUDED.input_cost, output_cost = EXCLUDED.output_cost, total_cost = EXCLUDED.total_cost, "
            + "unpriced_requests = EXCLUDED.unpriced_requests, updated_at = EXCLUDED.updated_at";

    static final String HOURLY = "INSERT INTO usage_hourly (tenant_id, model, currency, hour_start, " + COLUMNS + ") "
            + "SELECT t, m, cu, timestamptz 'epoch' + s * interval '1 millisecond', " + SELECT_TOTALS
            + " FROM unnest(?::text[], ?::text[], ?::text[], ?::int8[], " + UNNEST_TOTALS + ") AS a(t, m, cu, s, "
            + TOTALS_ALIAS + ") ON CONFLICT (tenant_id, hour_start, model, currency) DO UPDATE SET " + UPDATE
            + " WHERE usage_hourly.requests <= EXCLUDED.requests";

    static final String DAILY = "INSERT INTO usage_daily (tenant_id, currency, day, " + COLUMNS + ") "
            + "SELECT t, cu, ((timestamptz 'epoch' + s * interval '1 millisecond') AT TIME ZONE 'UTC')::date, "
            + SELECT_TOTALS + " FROM unnest(?::text[], ?::text[], ?::int8[], " + UNNEST_TOTALS + ") AS a(t, cu, s, "
            + TOTALS_ALIAS + ") ON CONFLICT (tenant_id, day, currency) DO UPDATE SET " + UPDATE
            + " WHERE usage_daily.requests <= EXCLUDED.requests";

    private AggregateWriter() {
    }

    /** Upserts {@code aggregates} in the caller's transaction; returns the rows inserted or changed. */
    public static int upsert(Connection c, Collection<UsageAggregate> aggregates) throws SQLException {
        Map<String, UsageAggregate> hourly = new LinkedHashMap<>();
        Map<String, UsageAggregate> daily = new LinkedHashMap<>();
        for (UsageAggregate a : aggregates) {
            Map<String, UsageAggregate> into = a.getGranularity() == Granularity.HOUR ? hourly : daily;
            String key = a.getTenantId() + '\u001f' + a.getModel() + '\u001f' + a.getCurrency() + '\u001f'
                    + a.getPeriodStart().toEpochMilli();
            into.merge(key, a, (x, y) -> y.getTotals().getRequests() >= x.getTotals().getRequests() ? y : x);
        }
        return write(c, HOURLY, new ArrayList<>(hourly.values()), true) + write(c, DAILY, new ArrayList<>(daily.values()), false);
    }

    private static int write(Connection c, String sql, List<UsageAggregate> rows, boolean withModel) throws SQLException {
        if (rows.isEmpty()) {
            return 0;
        }
        int n = rows.size();
        String[] tenant = new String[n];
        String[] model = new String[n];
        String[] currency = new String[n];
        Long[] start = new Long[n];
        Long[] requests = new Long[n];
        Long[] prompt = new Long[n];
        Long[] completion = new Long[n];
        Long[] cached = new Long[n];
        String[] inputCost = new String[n];
        String[] outputCost = new String[n];
        String[] totalCost = new String[n];
        Long[] unpriced = new Long[n];
        Long[] updated = new Long[n];
        for (int i = 0; i < n; i++) {
            UsageAggregate a = rows.get(i);
            UsageTotals t = a.getTotals();
            tenant[i] = a.getTenantId();
            model[i] = a.getModel();
            currency[i] = a.getCurrency();
            start[i] = a.getPeriodStart().toEpochMilli();
            requests[i] = t.getRequests();
            prompt[i] = t.getPromptTokens();
            completion[i] = t.getCompletionTokens();
            cached[i] = t.getCachedPromptTokens();
            // plain decimal text, never scientific notation, so PostgreSQL parses the exact value
            inputCost[i] = t.getInputCost().toPlainString();
            outputCost[i] = t.getOutputCost().toPlainString();
            totalCost[i] = t.getTotalCost().toPlainString();
            unpriced[i] = t.getUnpricedRequests();
            updated[i] = a.getUpdatedAt().toEpochMilli();
        }
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int p = 1;
            ps.setArray(p++, c.createArrayOf("text", tenant));
            if (withModel) {
                ps.setArray(p++, c.createArrayOf("text", model));
            }
            ps.setArray(p++, c.createArrayOf("text", currency));
            ps.setArray(p++, c.createArrayOf("int8", start));
            ps.setArray(p++, c.createArrayOf("int8", requests));
            ps.setArray(p++, c.createArrayOf("int8", prompt));
            ps.setArray(p++, c.createArrayOf("int8", completion));
            ps.setArray(p++, c.createArrayOf("int8", cached));
            ps.setArray(p++, c.createArrayOf("text", inputCost));
            ps.setArray(p++, c.createArrayOf("text", outputCost));
            ps.setArray(p++, c.createArrayOf("text", totalCost));
            ps.setArray(p++, c.createArrayOf("int8", unpriced));
            ps.setArray(p, c.createArrayOf("int8", updated));
            return ps.executeUpdate();
        }
    }
}
