package llmq.schemas.serde;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import llmq.schemas.registry.SchemaRegistryClient;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Serde for one generated Avro class in the Confluent wire format, subject
 * {@code <topic>-value} (Confluent's TopicNameStrategy).
 *
 * <p>Serializing registers the class's schema under the topic's subject (once, cached) and
 * frames the Avro binary with its id. Deserializing fetches the writer's schema by id (cached)
 * and resolves it against this class's schema, so values written with an older or newer
 * compatible schema decode into the current class. Failures are {@link SerializationException}s,
 * which Kafka's and Streams' error handlers route instead of crashing.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {

    private final SchemaRegistryClient registry;
    private final Class<T> type;
    private final Schema readerSchema;
    private final SpecificData data;
    private final SpecificDatumWriter<T> writer;
    private final Map<Integer, DatumReader<T>> readers = new ConcurrentHashMap<>();
    /** Schema id per subject: registering is a map lookup after the first value of a topic. */
    private final Map<String, Integer> ids = new ConcurrentHashMap<>();
    private final boolean isKey;

    public AvroSerde(SchemaRegistryClient registry, Class<T> type) {
        this(registry, type, false);
    }

    public AvroSerde(SchemaRegistryClient registry, Class<T> type, boolean isKey) {
        this.registry = registry;
        this.type = type;
        this.data = SpecificData.getForClass(type);
        this.readerSchema = data.getSchema(type);
        this.writer = new SpecificDatumWriter<>(readerSchema, data);
        this.isKey = isKey;
    }

    /** The subject values of {@code topic} are registered under. */
    public String subject(String topic) {
        return topic + (isKey ? "-key" : "-value");
    }

    /** The class this serde reads and writes. */
    public Class<T> type() {
        return type;
    }

    /** Frames {@code value} for {@code topic}; null stays null (tombstone). */
    public byte[] serialize(String topic, T value) {
        if (value == null) {
            return null;
        }
        int id;
        try {
            Integer known = ids.get(topic);
            if (known == null) {
                known = registry.register(subject(topic), readerSchema);
                ids.put(topic, known);
            }
            id = known;
        } catch (RuntimeException e) {
            throw new SerializationException("cannot register schema of " + type.getSimpleName()
                    + " under " + subject(topic) + ": " + e.getMessage(), e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.write(WireFormat.MAGIC);
        out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
        try {
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            writer.write(value, enc);
            enc.flush();
        } catch (IOException | AvroRuntimeException | ClassCastException | NullPointerException e) {
            throw new SerializationException("cannot encode " + type.getSimpleName() + " for " + topic + ": " + e, e);
        }
        return out.toByteArray();
    }

    /** Decodes a framed value of {@code topic}; null stays null. */
    public T deserialize(String topic, byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        int id = WireFormat.schemaId(bytes);
        DatumReader<T> reader;
        try {
            reader = readers.computeIfAbsent(id, i -> new SpecificDatumReader<>(registry.schemaById(i), readerSchema, data));
        } catch (RuntimeException e) {
            throw new SerializationException("unknown schema id " + id + " on " + topic + ": " + e.getMessage(), e);
        }
        try {
            return reader.read(null, DecoderFactory.get().binaryDecoder(bytes, WireFormat.HEADER_LENGTH,
                    bytes.length - WireFormat.HEADER_LENGTH, null));
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot decode " + type.getSimpleName() + " (schema id " + id
                    + ") from " + topic + ": " + e, e);
        }
    }

    @Override
    public Serializer<T> serializer() {
        return new Serializer<>() {
            @Override
            public byte[] serialize(String topic, T value) {
                return AvroSerde.this.serialize(topic, value);
            }
        };
    }

    @Override
    public Deserializer<T> deserializer() {
        return new Deserializer<>() {
            @Override
            public T deserialize(String topic, byte[] bytes) {
                return AvroSerde.this.deserialize(topic, bytes);
            }
        };
    }
}
