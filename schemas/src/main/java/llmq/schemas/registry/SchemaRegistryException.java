package llmq.schemas.registry;

/** The registry refused a call or could not be reached; the message carries its error code and text. */
public final class SchemaRegistryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final int errorCode;

    public SchemaRegistryException(int status, int errorCode, String message) {
        super(message + " (HTTP " + status + ", error_code " + errorCode + ")");
        this.status = status;
        this.errorCode = errorCode;
    }

    public SchemaRegistryException(String message, Throwable cause) {
        super(message, cause);
        this.status = 0;
        this.errorCode = 0;
    }

    /** HTTP status, or 0 when the registry could not be reached. */
    public int status() {
        return status;
    }

    /** Confluent error code, e.g. 40403 (schema not found), 409 (incompatible). */
    public int errorCode() {
        return errorCode;
    }
}
