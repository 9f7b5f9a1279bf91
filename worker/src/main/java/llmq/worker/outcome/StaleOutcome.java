package llmq.worker.outcome;

import java.util.concurrent.CancellationException;

/**
 * An outcome that was not written because its record is no longer this worker's: the partition
 * was revoked, lost, or rewound after an aborted transaction, and the record runs again from
 * the committed offset. Not an error: the new run's outcome is the one that counts.
 */
public final class StaleOutcome extends CancellationException {
    private static final long serialVersionUID = 1L;

    public StaleOutcome(Outcomes.Source source) {
        super(source.tp() + "@" + source.offset() + " is no longer owned under assignment " + source.assignment());
    }
}
