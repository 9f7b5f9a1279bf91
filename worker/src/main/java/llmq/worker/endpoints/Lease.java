package llmq.worker.endpoints;

import java.util.concurrent.CompletableFuture;
import llmq.worker.model.Completion;
import llmq.worker.model.ModelCall;

/**
 * The right to make one call on one endpoint: a concurrency permit, the rate-limit tokens and
 * (when the circuit is half open) a probe permission are held from the moment the pool hands
 * the lease out until the call finishes. {@link #call} may be made once.
 */
public interface Lease {

    /** Name of the endpoint the call goes to. */
    String endpoint();

    /** Model id sent upstream. */
    String model();

    /** Makes the call; the lease's permits are returned when the future completes. */
    CompletableFuture<Completion> call(ModelCall call);
}
