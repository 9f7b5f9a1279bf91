package llmq.worker.consume;

import llmq.schemas.registry.SchemaRegistryException;

/**
 * Tells a record that cannot be decoded because the schema registry is unreachable or failing
 * (a {@link SchemaRegistryException} with status 0 or 5xx anywhere in the cause chain) from a
 * record that is bad. The first is retried later and never dead-lettered.
 */
public final class RegistryOutage {

    private RegistryOutage() {
    }

    public static boolean isCause(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SchemaRegistryException sre && (sre.status() == 0 || sre.status() >= 500)) {
                return true;
            }
        }
        return false;
    }
}
