package llmq.router.schedule;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import llmq.avro.Priority;
import org.apache.kafka.common.utils.Bytes;

/**
 * Key of the ordered parked store: {@code level | tenant | arrival | request id}, so that a
 * range scan over {@code level | tenant} yields that tenant's backlog at that level in arrival
 * order. The tenant is length-prefixed and the arrival time is written big-endian with its sign
 * bit flipped, so byte order equals time order.
 */
public final class ParkedKey {

    private ParkedKey() {
    }

    /** The full key of one parked request. */
    public static Bytes of(Priority level, String tenant, Instant arrival, String requestId) {
        byte[] t = tenant.getBytes(StandardCharsets.UTF_8);
        byte[] id = requestId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(1 + 2 + t.length + 8 + id.length);
        b.put((byte) level.ordinal()).putShort((short) t.length).put(t)
                .putLong(arrival.toEpochMilli() ^ Long.MIN_VALUE).put(id);
        return Bytes.wrap(b.array());
    }

    /** The prefix shared by every key of {@code tenant} at {@code level}. */
    public static Bytes prefix(Priority level, String tenant) {
        byte[] t = tenant.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(1 + 2 + t.length);
        b.put((byte) level.ordinal()).putShort((short) t.length).put(t);
        return Bytes.wrap(b.array());
    }

    /** The prefix shared by every key at {@code level}. */
    public static Bytes prefix(Priority level) {
        return Bytes.wrap(new byte[] {(byte) level.ordinal()});
    }

    /** The level a key belongs to. */
    public static Priority level(Bytes key) {
        return Priority.values()[key.get()[0]];
    }

    /** The arrival time in a key. */
    public static Instant arrival(Bytes key) {
        ByteBuffer b = ByteBuffer.wrap(key.get());
        b.get();
        int len = b.getShort();
        b.position(b.position() + len);
        return Instant.ofEpochMilli(b.getLong() ^ Long.MIN_VALUE);
    }
}
