package llmq.modelsim.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import llmq.common.json.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ground truth of what the simulated model served, so that tests and benchmarks can check
 * billing against it: every call answered on {@code /v1/chat/completions} gets an entry, and
 * successful (200) calls are counted per request id (duplicates reveal double execution) and
 * summed per tenant (what billing must equal).
 *
 * <p>Counts cover every call since the last {@link #reset()}; only the newest {@code retain}
 * entries are kept in memory, so long benchmarks do not grow without bound. With a file, each
 * entry is also appended as one JSON line and flushed, so an auditor in another process can
 * read it even after this one is killed. Sequence numbers keep increasing across resets so
 * that pollers of {@code /audit?since=} never see one twice. Thread-safe.
 */
public final class Audit implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Audit.class);

    /** The tenant key for calls without an {@code X-LLMQ-Tenant} header. */
    public static final String NO_TENANT = "(none)";
    /** Default number of entries kept in memory. */
    public static final int DEFAULT_RETAIN = 100_000;
    /** Status of a call that never got a complete answer (timeout fault, broken or aborted). */
    public static final int NOT_ANSWERED = 0;

    /**
     * One call.
     *
     * @param seq              1, 2, 3... in the order calls were answered
     * @param requestId        the caller's {@code X-LLMQ-Request-Id}, or null
     * @param tenant           the caller's {@code X-LLMQ-Tenant}, or null
     * @param model            the requested model, or null if the request had none
     * @param status           the HTTP status served, {@link #NOT_ANSWERED} if none was completed
     * @param completionTokens tokens sent (for a broken stream, those sent before it broke)
     */
    public record Entry(long seq, String requestId, String tenant, String model, int status,
            int promptTokens, int completionTokens, boolean stream, Instant timestamp) {
    }

    /** Served (200) calls and their tokens. */
    public record Usage(long calls, long promptTokens, long completionTokens, long totalTokens) {
        static Usage of(long calls, long promptTokens, long completionTokens) {
            return new Usage(calls, promptTokens, completionTokens, promptTokens + completionTokens);
        }
    }

    /**
     * The counters, as served on {@code GET /audit/summary}.
     *
     * @param calls                  every call recorded, whatever its status
     * @param served                 calls answered 200
     * @param distinctRequestIds     request ids with at least one served call
     * @param duplicateRequestIds    request ids served more than once
     * @param servedWithoutRequestId served calls that carried no request id
     * @param callsByStatus          calls per status
     * @param tenants                served usage per tenant ({@link #NO_TENANT} for none)
     */
    public record Summary(long calls, long served, long distinctRequestIds, long duplicateRequestIds,
            long servedWithoutRequestId, Map<Integer, Long> callsByStatus, Map<String, Usage> tenants) {
    }

    private final Clock clock;
    private final int retain;
    private final BufferedWriter file;
    private final Path path;
    private boolean fileFailed;
    private boolean fileClosed;

    private long seq;
    private long calls;
    private long served;
    private long servedWithoutRequestId;
    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private final Map<String, Integer> servedByRequestId = new HashMap<>();
    private final Map<Integer, Long> byStatus = new TreeMap<>();
    private final Map<String, long[]> byTenant = new TreeMap<>();

    /**
     * @param file   JSON-lines file to append to (created if absent), or null
     * @param retain entries kept in memory (counts are unaffected)
     */
    public Audit(Path file, int retain, Clock clock) throws IOException {
        if (retain < 0) {
            throw new IllegalArgumentException("retain must not be negative: " + retain);
        }
        this.clock = clock;
        this.retain = retain;
        this.path = file;
        if (file != null) {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            this.file = Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } else {
            this.file = null;
        }
    }

    /** An audit kept in memory only. */
    public static Audit inMemory() {
        try {
            return new Audit(null, DEFAULT_RETAIN, Clock.systemUTC());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Records one call and returns its entry. */
    public Entry record(String requestId, String tenant, String model, int status,
            int promptTokens, int completionTokens, boolean stream) {
        synchronized (this) {
            Entry e = new Entry(++seq, requestId, tenant, model, status, promptTokens, completionTokens, stream,
                    clock.instant());
            calls++;
            byStatus.merge(status, 1L, Long::sum);
            if (status == 200) {
                served++;
                if (requestId == null) {
                    servedWithoutRequestId++;
                } else {
                    servedByRequestId.merge(requestId, 1, Integer::sum);
                }
                long[] t = byTenant.computeIfAbsent(tenant == null ? NO_TENANT : tenant, k -> new long[3]);
                t[0]++;
                t[1] += promptTokens;
                t[2] += completionTokens;
            }
            if (retain > 0) {
                entries.addLast(e);
                if (entries.size() > retain) {
                    entries.removeFirst();
                }
            }
            append(e);
            return e;
        }
    }

    private void append(Entry e) {
        if (file == null || fileFailed || fileClosed) {
            return;
        }
        try {
            file.write(Json.mapper().writeValueAsString(e));
            file.newLine();
            file.flush();
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("audit entry not serialisable", ex);
        } catch (IOException ex) {
            // Keep serving: the in-memory audit still holds the truth; say so once.
            fileFailed = true;
            LOG.error("cannot append to audit file {}; further entries are kept in memory only", path, ex);
        }
    }

    /** The retained entries, oldest first. */
    public synchronized List<Entry> entries() {
        return new ArrayList<>(entries);
    }

    /** Up to {@code limit} retained entries with a sequence number above {@code afterSeq}, oldest first. */
    public synchronized List<Entry> entriesSince(long afterSeq, int limit) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries) {
            if (out.size() >= limit) {
                break;
            }
            if (e.seq() > afterSeq) {
                out.add(e);
            }
        }
        return out;
    }

    /** The sequence number of the newest entry (0 before the first). */
    public synchronized long lastSeq() {
        return seq;
    }

    /** Calls answered 200. */
    public synchronized long servedCount() {
        return served;
    }

    /** Every call recorded, whatever its status. */
    public synchronized long callCount() {
        return calls;
    }

    /** Served (200) calls per request id; calls without an id are not in it. */
    public synchronized Map<String, Integer> callsByRequestId() {
        return new HashMap<>(servedByRequestId);
    }

    /** Served (200) calls and tokens per tenant ({@link #NO_TENANT} for calls without one). */
    public synchronized Map<String, Usage> usageByTenant() {
        Map<String, Usage> out = new TreeMap<>();
        byTenant.forEach((tenant, t) -> out.put(tenant, Usage.of(t[0], t[1], t[2])));
        return out;
    }

    /** All counters at once, consistent with each other. */
    public synchronized Summary summary() {
        long duplicates = servedByRequestId.values().stream().filter(n -> n > 1).count();
        return new Summary(calls, served, servedByRequestId.size(), duplicates, servedWithoutRequestId,
                new TreeMap<>(byStatus), usageByTenant());
    }

    /** Forgets every entry and counter; sequence numbers continue and the file is left as is. */
    public synchronized void reset() {
        calls = 0;
        served = 0;
        servedWithoutRequestId = 0;
        entries.clear();
        servedByRequestId.clear();
        byStatus.clear();
        byTenant.clear();
    }

    /** Closes the file; calls recorded afterwards (during shutdown) are kept in memory only. */
    @Override
    public synchronized void close() {
        if (file != null && !fileClosed) {
            fileClosed = true;
            try {
                file.close();
            } catch (IOException e) {
                LOG.warn("closing audit file {} failed", path, e);
            }
        }
    }
}
