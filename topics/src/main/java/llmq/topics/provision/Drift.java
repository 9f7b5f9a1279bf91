package llmq.topics.provision;

/**
 * One way a broker's topic differs from the catalog.
 *
 * @param topic    topic name
 * @param kind     what differs
 * @param expected what the catalog declares
 * @param actual   what the broker has
 */
public record Drift(String topic, Kind kind, String expected, String actual) {

    /** What differs. */
    public enum Kind {
        /** The topic does not exist; {@code apply} creates it. */
        MISSING,
        /** Partition count differs; never changed automatically (it would move keys between partitions). */
        PARTITIONS,
        /** Replication factor differs. */
        REPLICATION,
        /** A topic config differs; never changed automatically (shortening retention deletes data). */
        CONFIG
    }

    @Override
    public String toString() {
        return switch (kind) {
            case MISSING -> topic + ": missing";
            case PARTITIONS -> topic + ": partitions " + actual + ", catalog says " + expected;
            case REPLICATION -> topic + ": replication factor " + actual + ", catalog says " + expected;
            case CONFIG -> topic + ": " + expected.substring(0, expected.indexOf('=')) + " is "
                    + actual + ", catalog says " + expected.substring(expected.indexOf('=') + 1);
        };
    }
}
