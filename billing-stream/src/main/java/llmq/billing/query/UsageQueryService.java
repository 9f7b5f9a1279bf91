package llmq.billing.query;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import llmq.billing.internal.avro.MonthToDate;
import llmq.billing.internal.avro.UsageTotals;
import llmq.billing.topology.BillingTopology;
import llmq.billing.topology.StoreKeys;
import llmq.billing.topology.Totals;
import llmq.common.json.Json;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;

/**
 * Answers usage queries from billing's state stores (interactive queries), wherever the tenant's
 * partition lives: the tenant's key locates the active instance (Streams metadata); this instance
 * answers from its own store, or forwards the query once to the instance that owns the tenant.
 *
 * <ul>
 *   <li>{@code GET /v1/usage?tenant=&from=&to=&granularity=hour|day}: the tenant's hourly
 *       (per model and currency) or daily (per currency) aggregates whose period starts in
 *       [{@code from}, {@code to}) (ISO-8601 instants; defaults: the last 24 hours, or 30 days
 *       for {@code day}), with totals per currency.</li>
 *   <li>{@code GET /v1/usage/month-to-date?tenant=}: the tenant's spend this month against its
 *       budget, as last computed.</li>
 * </ul>
 *
 * <p>Costs are exact decimal strings. 503 with {@code Retry-After} while the stores are restoring
 * or moving between instances. This is an operator API on the admin port, not a tenant-facing one.
 */
public final class UsageQueryService {

    /** Header marking a query forwarded by another instance (never forwarded twice). */
    public static final String FORWARDED = "X-Llmq-Forwarded";

    /** An HTTP answer. */
    public record Answer(int status, String body) {
    }

    private final KafkaStreams streams;
    private final HostInfo self;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public UsageQueryService(KafkaStreams streams, HostInfo self) {
        this.streams = streams;
        this.self = self;
    }

    /** {@code GET /v1/usage}. */
    public Answer usage(Map<String, String> params, boolean forwarded) {
        String tenant = params.get("tenant");
        if (tenant == null || tenant.isBlank()) {
            return error(400, "invalid_request", "tenant", "tenant is required");
        }
        String granularity = params.getOrDefault("granularity", "hour").toLowerCase(Locale.ROOT);
        if (!granularity.equals("hour") && !granularity.equals("day")) {
            return error(400, "invalid_request", "granularity", "granularity must be hour or day");
        }
        Instant to;
        Instant from;
        try {
            to = params.containsKey("to") ? Instant.parse(params.get("to")) : Instant.now();
            from = params.containsKey("from") ? Instant.parse(params.get("from"))
                    : to.minus(granularity.equals("hour") ? Duration.ofHours(24) : Duration.ofDays(30));
        } catch (DateTimeParseException e) {
            return error(400, "invalid_request", params.containsKey("from") ? "from" : "to",
                    "from and to must be ISO-8601 instants such as 2026-05-01T00:00:00Z");
        }
        if (!from.isBefore(to)) {
            return error(400, "invalid_request", "from", "from must be before to");
        }
        String store = granularity.equals("hour") ? BillingTopology.HOURLY_STORE : BillingTopology.DAILY_STORE;
        return routed(store, tenant, "/v1/usage", params, forwarded, md -> local(md, store, tenant, from, to, granularity));
    }

    /** {@code GET /v1/usage/month-to-date}. */
    public Answer monthToDate(Map<String, String> params, boolean forwarded) {
        String tenant = params.get("tenant");
        if (tenant == null || tenant.isBlank()) {
            return error(400, "invalid_request", "tenant", "tenant is required");
        }
        return routed(BillingTopology.MONTH_TO_DATE_STORE, tenant, "/v1/usage/month-to-date", params, forwarded, md -> {
            ReadOnlyKeyValueStore<String, MonthToDate> s = streams.store(StoreQueryParameters.fromNameAndType(
                    BillingTopology.MONTH_TO_DATE_STORE, QueryableStoreTypes.<String, MonthToDate>keyValueStore())
                    .withPartition(md.partition()));
            MonthToDate m = s.get(tenant);
            ObjectNode doc = Json.mapper().createObjectNode();
            doc.put("tenant", tenant);
            if (m == null) {
                doc.putNull("month");
            } else {
                doc.put("month", m.getMonth());
                doc.put("currency", m.getCurrency());
                doc.put("spent", m.getTotals().getTotalCost().toPlainString());
                doc.set("totals", totals(m.getTotals()));
                if (m.getPublishedBudget() == null) {
                    doc.putNull("budget");
                } else {
                    doc.put("budget", m.getPublishedBudget().toPlainString());
                }
                doc.put("over_budget", m.getPublishedOver());
                doc.put("other_currency_requests", m.getOtherCurrencyRequests());
            }
            doc.put("served_by", self.host() + ":" + self.port());
            return new Answer(200, doc.toString());
        });
    }

    private interface LocalRead {
        Answer read(KeyQueryMetadata md);
    }

    private Answer routed(String store, String tenant, String path, Map<String, String> params, boolean forwarded,
                          LocalRead local) {
        KeyQueryMetadata md;
        try {
            md = streams.queryMetadataForKey(store, tenant, Serdes.String().serializer());
        } catch (IllegalStateException e) {
            return unavailable("billing is not running: " + e.getMessage());
        }
        if (md == null || md == KeyQueryMetadata.NOT_AVAILABLE || md.activeHost() == null) {
            return unavailable("the usage stores are being assigned; retry shortly");
        }
        if (md.activeHost().equals(self)) {
            try {
                return local.read(md);
            } catch (InvalidStateStoreException e) {
                return unavailable("the usage stores are restoring or moving; retry shortly");
            }
        }
        if (forwarded) {
            return unavailable("the usage stores are moving between instances; retry shortly");
        }
        return forward(md.activeHost(), path, params);
    }

    private Answer local(KeyQueryMetadata md, String store, String tenant, Instant from, Instant to, String granularity) {
        long size = granularity.equals("hour") ? Duration.ofHours(1).toMillis() : Duration.ofDays(1).toMillis();
        Instant first = Instant.ofEpochMilli(Math.floorDiv(from.toEpochMilli(), size) * size);
        Instant last = to.minusMillis(1);
        ReadOnlyWindowStore<String, UsageTotals> s = streams.store(StoreQueryParameters.fromNameAndType(store,
                QueryableStoreTypes.<String, UsageTotals>windowStore()).withPartition(md.partition()));
        List<KeyValue<Windowed<String>, UsageTotals>> rows = new ArrayList<>();
        try (KeyValueIterator<Windowed<String>, UsageTotals> it = s.fetch(StoreKeys.tenantFrom(tenant),
                StoreKeys.tenantTo(tenant), first, last)) {
            it.forEachRemaining(kv -> {
                if (StoreKeys.split(kv.key.key())[0].equals(tenant)) {
                    rows.add(kv);
                }
            });
        }
        rows.sort(Comparator.comparing((KeyValue<Windowed<String>, UsageTotals> kv) -> kv.key.window().start())
                .thenComparing(kv -> kv.key.key()));
        ObjectNode doc = Json.mapper().createObjectNode();
        doc.put("tenant", tenant);
        doc.put("granularity", granularity);
        doc.put("from", from.toString());
        doc.put("to", to.toString());
        ArrayNode buckets = doc.putArray("buckets");
        Map<String, UsageTotals> byCurrency = new TreeMap<>();
        for (KeyValue<Windowed<String>, UsageTotals> kv : rows) {
            String[] parts = StoreKeys.split(kv.key.key());
            String currency = parts[parts.length - 1];
            ObjectNode b = buckets.addObject();
            b.put("start", Instant.ofEpochMilli(kv.key.window().start()).toString());
            if (parts.length == 3) {
                b.put("model", parts[1]);
            }
            b.put("currency", currency);
            b.setAll(totals(kv.value));
            byCurrency.merge(currency, kv.value, Totals::sum);
        }
        ObjectNode sums = doc.putObject("totals");
        byCurrency.forEach((currency, t) -> sums.set(currency, totals(t)));
        doc.put("served_by", self.host() + ":" + self.port());
        return new Answer(200, doc.toString());
    }

    private static ObjectNode totals(UsageTotals t) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("requests", t.getRequests());
        o.put("prompt_tokens", t.getPromptTokens());
        o.put("completion_tokens", t.getCompletionTokens());
        o.put("cached_prompt_tokens", t.getCachedPromptTokens());
        o.put("input_cost", t.getInputCost().toPlainString());
        o.put("output_cost", t.getOutputCost().toPlainString());
        o.put("total_cost", t.getTotalCost().toPlainString());
        o.put("unpriced_requests", t.getUnpricedRequests());
        return o;
    }

    private Answer forward(HostInfo owner, String path, Map<String, String> params) {
        StringBuilder q = new StringBuilder();
        for (Map.Entry<String, String> e : params.entrySet()) {
            q.append(q.length() == 0 ? '?' : '&').append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8))
                    .append('=').append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
        }
        URI uri = URI.create("http://" + owner.host() + ":" + owner.port() + path + q);
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                    .header(FORWARDED, "1").GET().build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body());
        } catch (IOException e) {
            return unavailable("the instance owning this tenant (" + owner.host() + ":" + owner.port()
                    + ") did not answer: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unavailable("interrupted");
        }
    }

    private static Answer unavailable(String message) {
        return error(503, "unavailable", null, message);
    }

    private static Answer error(int status, String type, String field, String message) {
        ObjectNode doc = Json.mapper().createObjectNode();
        ObjectNode e = doc.putObject("error");
        e.put("type", type);
        e.put("message", message);
        if (field != null) {
            e.put("field", field);
        }
        return new Answer(status, doc.toString());
    }

    /** Query parameters of a raw query string (last value wins). */
    public static Map<String, String> params(String rawQuery) {
        Map<String, String> out = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return out;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String k = java.net.URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            if (!k.isEmpty()) {
                out.put(k, v);
            }
        }
        return out;
    }
}
