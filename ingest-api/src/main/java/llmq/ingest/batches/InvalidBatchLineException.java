package llmq.ingest.batches;

import java.util.List;
import llmq.ingest.submit.FieldError;

/** A batch refused because of one of its lines: the line number (from 1) and every problem with it. */
public final class InvalidBatchLineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int line;
    private final transient List<FieldError> errors;

    public InvalidBatchLineException(int line, List<FieldError> errors) {
        super("line " + line + ": " + errors.get(0).field() + ": " + errors.get(0).message());
        this.line = line;
        this.errors = List.copyOf(errors);
    }

    public int line() {
        return line;
    }

    public List<FieldError> errors() {
        return errors;
    }
}
