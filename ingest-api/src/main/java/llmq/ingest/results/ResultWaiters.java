package llmq.ingest.results;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import llmq.avro.LlmResult;

/**
 * The requests whose submitters are waiting on an open connection for the result (the
 * OpenAI-compatible API), by request id. {@link ResultsFollower} completes them from
 * {@code llm.results}; a request deduplicated into another one waits for the original's result.
 * Every {@link #await} is paired with a {@link #forget} once the connection is answered.
 */
public final class ResultWaiters {

    private static final class Waiter {
        final CompletableFuture<LlmResult> future = new CompletableFuture<>();
        int holders;
    }

    private final Map<String, Waiter> waiting = new ConcurrentHashMap<>();

    /** Registers interest in {@code id}'s result (before it is submitted, so that none is missed). */
    public CompletableFuture<LlmResult> await(String id) {
        return waiting.compute(id, (k, w) -> {
            Waiter x = w != null ? w : new Waiter();
            x.holders++;
            return x;
        }).future;
    }

    /** Drops one interest in {@code id}. */
    public void forget(String id) {
        waiting.computeIfPresent(id, (k, w) -> --w.holders <= 0 ? null : w);
    }

    /** True if someone waits for {@code id} (cheap: checked for every record before decoding it). */
    public boolean waitingFor(String id) {
        return id != null && waiting.containsKey(id);
    }

    /** Hands {@code id}'s result to whoever waits for it. */
    public void complete(String id, LlmResult result) {
        Waiter w = waiting.get(id);
        if (w != null) {
            w.future.complete(result);
        }
    }

    /** {@code id} was deduplicated into {@code originalId}: its waiters get the original's result. */
    public void redirect(String id, String originalId) {
        Waiter w = waiting.get(id);
        if (w == null || originalId == null || originalId.equals(id)) {
            return;
        }
        await(originalId).whenComplete((r, e) -> {
            forget(originalId);
            if (r != null) {
                w.future.complete(r);
            }
        });
    }

    /** How many requests are waited for (a gauge). */
    public int size() {
        return waiting.size();
    }
}
