package llmq.schemas.serde;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;

/**
 * The Confluent wire format: magic byte {@code 0}, the 4-byte big-endian schema id, then the
 * Avro binary encoding of the value.
 */
public final class WireFormat {

    /** First byte of every framed value. */
    public static final byte MAGIC = 0;
    /** Bytes before the Avro payload. */
    public static final int HEADER_LENGTH = 5;

    private WireFormat() {
    }

    /** True when {@code bytes} start like a Confluent-framed value. */
    public static boolean isFramed(byte[] bytes) {
        return bytes != null && bytes.length >= HEADER_LENGTH && bytes[0] == MAGIC;
    }

    /** The schema id in the header, or a {@link SerializationException} naming the problem. */
    public static int schemaId(byte[] bytes) {
        if (bytes == null || bytes.length < HEADER_LENGTH) {
            throw new SerializationException("value too short for the Confluent wire format ("
                    + (bytes == null ? 0 : bytes.length) + " bytes)");
        }
        if (bytes[0] != MAGIC) {
            throw new SerializationException("unknown magic byte " + bytes[0] + " (expected 0: Confluent wire format)");
        }
        return ByteBuffer.wrap(bytes, 1, 4).getInt();
    }
}
