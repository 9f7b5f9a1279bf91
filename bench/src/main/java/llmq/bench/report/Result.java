package llmq.bench.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import llmq.common.json.Json;

/**
 * One scenario's result document, as written to {@code docs/benchmarks/<scenario>.json}:
 *
 * <pre>
 * scenario, title, run_id, date, mode (full | quick), status (ok | pending | failed),
 * machine {cores, memory_mib, cpu, jdk, os, load_average}, load_average_end,
 * config {...}          what was run (rates, sizes, settings)
 * figures [{key, label, value, unit}]     the headline numbers
 * ratios  [{key, label, value, goal}]     llmq beside the machine's own limits
 * details {...}         everything else (per-step tables, per-run percentiles)
 * notes [...]
 * </pre>
 */
public final class Result {

    private final ObjectNode doc = Json.mapper().createObjectNode();

    public Result(String scenario, String title, String runId, boolean quick) {
        doc.put("scenario", scenario);
        doc.put("title", title);
        doc.put("run_id", runId);
        doc.put("date", Instant.now().toString());
        doc.put("mode", quick ? "quick" : "full");
        doc.put("status", "ok");
        doc.set("machine", Machine.describe());
        doc.putObject("config");
        doc.putArray("figures");
        doc.putArray("ratios");
        doc.putObject("details");
        doc.putArray("notes");
    }

    public ObjectNode config() {
        return (ObjectNode) doc.get("config");
    }

    public ObjectNode details() {
        return (ObjectNode) doc.get("details");
    }

    /** A headline number. */
    public Result figure(String key, String label, double value, String unit) {
        ObjectNode f = ((ArrayNode) doc.get("figures")).addObject();
        f.put("key", key);
        f.put("label", label);
        putNumber(f, "value", value);
        f.put("unit", unit);
        return this;
    }

    /** A ratio of llmq to a limit of the same machine; {@code goal} says what is wanted ("" for none). */
    public Result ratio(String key, String label, double value, String goal) {
        ObjectNode r = ((ArrayNode) doc.get("ratios")).addObject();
        r.put("key", key);
        r.put("label", label);
        putNumber(r, "value", value);
        r.put("goal", goal);
        return this;
    }

    public Result note(String text) {
        ((ArrayNode) doc.get("notes")).add(text);
        return this;
    }

    /** ok, pending (not measurable yet) or failed. */
    public Result status(String status) {
        doc.put("status", status);
        return this;
    }

    public String status() {
        return doc.get("status").asText();
    }

    /** Closes the document: the load average at the end and the wall time the scenario took. */
    public ObjectNode finish(double seconds) {
        doc.put("load_average_end", Machine.loadAverage());
        doc.put("seconds", Math.round(seconds * 10) / 10.0);
        return doc;
    }

    public ObjectNode doc() {
        return doc;
    }

    /** A JSON number as a double; NaN when absent or null. */
    public static double number(com.fasterxml.jackson.databind.JsonNode n) {
        return n != null && n.isNumber() ? n.asDouble() : Double.NaN;
    }

    /** Numbers rounded to what a benchmark can tell apart: 4 significant digits; NaN as null. */
    public static void putNumber(ObjectNode n, String field, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            n.putNull(field);
        } else if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            n.put(field, (long) v);
        } else {
            n.put(field, new java.math.BigDecimal(v).round(new java.math.MathContext(4)).doubleValue());
        }
    }
}
