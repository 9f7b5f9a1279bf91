package llmq.ingest.status;

import java.util.Optional;
import llmq.avro.LlmResult;
import llmq.ingest.internal.avro.RequestStatus;
import llmq.topics.streams.StreamsApp;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Reads a request's status and result from the status app's local stores (interactive
 * queries). Throws {@link Unavailable} while the stores are being restored or rebalanced.
 */
public final class StatusView implements AutoCloseable {

    /** The stores cannot answer right now (restoring, rebalancing); try again shortly. */
    public static final class Unavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unavailable(Throwable cause) {
            super("status store not available: " + cause.getMessage(), cause);
        }
    }

    /** What the stores hold for one request; either part may be null. */
    public record Snapshot(RequestStatus status, LlmResult result) {
    }

    private final StreamsApp app;

    public StatusView(StreamsApp app) {
        this.app = app;
    }

    public StreamsApp app() {
        return app;
    }

    public Optional<Snapshot> find(String requestId) {
        try {
            ReadOnlyKeyValueStore<String, RequestStatus> status = app.streams().store(
                    StoreQueryParameters.fromNameAndType(StatusTopology.STATUS_STORE, QueryableStoreTypes.keyValueStore()));
            ReadOnlyKeyValueStore<String, LlmResult> results = app.streams().store(
                    StoreQueryParameters.fromNameAndType(StatusTopology.RESULTS_STORE, QueryableStoreTypes.keyValueStore()));
            RequestStatus s = status.get(requestId);
            LlmResult r = results.get(requestId);
            return s == null && r == null ? Optional.empty() : Optional.of(new Snapshot(s, r));
        } catch (InvalidStateStoreException e) {
            throw new Unavailable(e);
        }
    }

    @Override
    public void close() {
        app.close();
    }
}
