package llmq.topics.replay;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import llmq.avro.DeadLetter;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.catalog.TopicSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Re-publishes a range of a topic into the stage that should process it again (by default the
 * stage that consumes the topic), each record marked with an {@value #REPLAY_HEADER} header.
 * What a replay does, per topic:
 *
 * <ul>
 *   <li>{@code llm.requests}, {@code llm.requests.<level>}: back into the same topic; the router's
 *       dedup drops requests already admitted within its window, unless {@code --rerun} marks them
 *       as deliberate re-runs ({@value #RERUN_HEADER}).</li>
 *   <li>{@code llm.queue.<level>}: back into the queue: workers call the model again; billing
 *       bills each request id once.</li>
 *   <li>{@code llm.usage}: back into {@code llm.usage}: billing drops usage of request ids it has
 *       billed (dedup window ≥ 7 days).</li>
 *   <li>{@code llm.billing}: back into {@code llm.billing}: the PostgreSQL sink's upserts are
 *       idempotent, so existing rows are unchanged and missing ones (a lost table) are rebuilt.</li>
 *   <li>{@code llm.results}: back into {@code llm.results} (compacted by request id): status views
 *       rebuild.</li>
 *   <li>{@code llm.dlq}: each dead letter's request goes back to {@code llm.requests.<level>} as a
 *       deliberate re-run (optionally to another model); a dead letter with only raw bytes goes
 *       back to {@code llm.requests}.</li>
 *   <li>{@code llm.events}: derived; replay only with an explicit {@code --into}.</li>
 * </ul>
 *
 * Progress is committed to the consumer group {@code llmq-replay-<name>} as records are
 * acknowledged, so an interrupted replay resumes where it stopped when run again with the same
 * name. A dry run reads and counts only: it produces nothing and commits nothing.
 */
public final class Replayer {

    /** Header naming the replay a record came from. */
    public static final String REPLAY_HEADER = "llmq-replay";
    /** Header asking the router to admit a request again although its dedup key was seen. */
    public static final String RERUN_HEADER = "llmq-rerun";

    /** What to replay and how. */
    public record Plan(String topic, Position from, Position to, Set<Integer> partitions, RecordFilter filter,
                       String into, double ratePerSecond, boolean dryRun, String name, boolean rerun, String model) {
        public Plan {
            partitions = Set.copyOf(partitions);
        }
    }

    /** Called as the replay advances. */
    public interface Progress {
        void update(long done, long total, long published, double perSecond);
    }

    /** What a replay read and did. */
    public record Report(String name, long scanned, long matched, long published, long skipped, boolean resumed,
                         Map<Integer, Long> perPartition, Map<String, Long> perTenant, Map<String, Long> perPriority,
                         Map<String, Long> perTarget) {
    }

    private final Admin admin;
    private final Map<String, Object> consumerConfig;
    private final Producer<byte[], byte[]> producer;
    private final TopicCatalog catalog;
    private final TopicSerdes serdes;

    /** @param producer null is allowed for dry runs */
    public Replayer(Admin admin, Map<String, Object> consumerConfig, Producer<byte[], byte[]> producer,
                    TopicCatalog catalog, TopicSerdes serdes) {
        this.admin = admin;
        this.consumerConfig = consumerConfig;
        this.producer = producer;
        this.catalog = catalog;
        this.serdes = serdes;
    }

    /** The consumer group that records a replay's progress. */
    public static String group(String name) {
        return "llmq-replay-" + name;
    }

    public Report run(Plan plan, Progress progress) throws InterruptedException, ExecutionException {
        TopicSpec<?> spec = catalog.byName(plan.topic()).orElseThrow(() ->
                new IllegalArgumentException("'" + plan.topic() + "' is not an llmq topic (llmq topics list)"));
        if (spec.equals(catalog.events()) && plan.into() == null) {
            throw new IllegalArgumentException("llm.events is derived from the other stages; replay the stage's "
                    + "input instead, or give --into to re-publish events deliberately");
        }
        if (!plan.dryRun() && producer == null) {
            throw new IllegalStateException("a replay that publishes needs a producer");
        }
        TopicRange range = TopicRange.resolve(admin, plan.topic(), plan.partitions(), plan.from(), plan.to());
        List<TopicPartition> partitions = new ArrayList<>(range.stop().keySet());
        Map<TopicPartition, Long> start = range.start();
        Map<TopicPartition, Long> stop = range.stop();
        boolean resumed = false;
        if (!plan.dryRun()) {
            Map<TopicPartition, OffsetAndMetadata> done = admin.listConsumerGroupOffsets(group(plan.name()))
                    .partitionsToOffsetAndMetadata().get();
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata o = done.get(tp);
                if (o == null) {
                    continue;
                }
                // a resumed replay ends where the first run would have: records appended since (its own
                // output among them, when a topic is replayed into itself) are not part of it
                Long firstStop = stopOf(o.metadata());
                if (firstStop != null) {
                    stop.put(tp, Math.min(stop.get(tp), firstStop));
                }
                if (o.offset() > start.get(tp) && o.offset() <= stop.get(tp)) {
                    start.put(tp, o.offset());
                    resumed = true;
                }
            }
        }
        long total = 0;
        for (TopicPartition tp : partitions) {
            total += Math.max(0, stop.get(tp) - start.get(tp));
        }

        Map<String, Object> c = new HashMap<>(consumerConfig);
        c.remove(ConsumerConfig.GROUP_ID_CONFIG);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        long scanned = 0;
        long matched = 0;
        long published = 0;
        long skipped = 0;
        Map<Integer, Long> perPartition = new TreeMap<>();
        Map<String, Long> perTenant = new TreeMap<>();
        Map<String, Long> perPriority = new TreeMap<>();
        Map<String, Long> perTarget = new TreeMap<>();
        Map<TopicPartition, Long> position = new HashMap<>(start);
        long t0 = System.nanoTime();
        long lastCommit = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> open = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                if (start.get(tp) < stop.get(tp)) {
                    open.add(tp);
                }
            }
            consumer.assign(open);
            open.forEach(tp -> consumer.seek(tp, start.get(tp)));
            while (!open.isEmpty()) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    if (r.offset() >= stop.get(tp)) {
                        continue;
                    }
                    position.put(tp, r.offset() + 1);
                    scanned++;
                    if (ownOutput(r, plan.name())) {
                        continue;
                    }
                    Object value = decode(spec, r.value());
                    RecordFacts facts = RecordFacts.of(value);
                    if (!plan.filter().test(facts)) {
                        continue;
                    }
                    matched++;
                    perPartition.merge(r.partition(), 1L, Long::sum);
                    perTenant.merge(facts.tenant() == null ? "(none)" : facts.tenant(), 1L, Long::sum);
                    perPriority.merge(facts.priority() == null ? "(none)" : facts.priority(), 1L, Long::sum);
                    ProducerRecord<byte[], byte[]> out = target(plan, spec, r, value);
                    if (out == null) {
                        skipped++;
                        continue;
                    }
                    perTarget.merge(out.topic(), 1L, Long::sum);
                    if (!plan.dryRun()) {
                        producer.send(out);
                        published++;
                        pace(plan.ratePerSecond(), published, t0);
                    }
                }
                // partitions done: position reached the stop offset (or nothing more can come)
                for (TopicPartition tp : new ArrayList<>(open)) {
                    if (consumer.position(tp) >= stop.get(tp)) {
                        open.remove(tp);
                        position.put(tp, stop.get(tp));
                    }
                }
                consumer.assign(open);
                long done = 0;
                for (TopicPartition tp : partitions) {
                    done += Math.max(0, position.get(tp) - start.get(tp));
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                progress.update(done, total, published, seconds > 0 ? done / seconds : 0);
                if (!plan.dryRun() && System.nanoTime() - lastCommit > 1_000_000_000L) {
                    commit(plan.name(), position, stop);
                    lastCommit = System.nanoTime();
                }
            }
        }
        if (!plan.dryRun()) {
            commit(plan.name(), position, stop);
        }
        return new Report(plan.name(), scanned, matched, published, skipped, resumed, perPartition, perTenant,
                perPriority, perTarget);
    }

    /**
     * Flushes what was sent, then records the progress (with each partition's stop offset, so a
     * resumed run ends where this one would have): a resumed replay never skips an unsent record.
     */
    private void commit(String name, Map<TopicPartition, Long> position, Map<TopicPartition, Long> stop)
            throws InterruptedException, ExecutionException {
        producer.flush();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        position.forEach((tp, o) -> offsets.put(tp, new OffsetAndMetadata(o, "stop=" + stop.get(tp))));
        admin.alterConsumerGroupOffsets(group(name), offsets).all().get();
    }

    private static Long stopOf(String metadata) {
        if (metadata == null || !metadata.startsWith("stop=")) {
            return null;
        }
        try {
            return Long.parseLong(metadata.substring(5));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static boolean ownOutput(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(REPLAY_HEADER);
        return h != null && name.equals(new String(h.value(), StandardCharsets.UTF_8));
    }

    private Object decode(TopicSpec<?> spec, byte[] value) {
        if (value == null) {
            return null;
        }
        try {
            return serdes.value(spec.valueType()).deserialize(spec.name(), value);
        } catch (RuntimeException e) {
            return null; // raw bytes (e.g. JSON on llm.requests): replayed as they are, matched only without a filter
        }
    }

    private ProducerRecord<byte[], byte[]> target(Plan plan, TopicSpec<?> spec, ConsumerRecord<byte[], byte[]> r, Object value) {
        RecordHeaders headers = new RecordHeaders();
        for (Header h : r.headers()) {
            if (!REPLAY_HEADER.equals(h.key()) && !RERUN_HEADER.equals(h.key())) {
                headers.add(h);
            }
        }
        headers.add(REPLAY_HEADER, plan.name().getBytes(StandardCharsets.UTF_8));
        if (spec.equals(catalog.dlq()) && plan.into() == null) {
            headers.add(RERUN_HEADER, "true".getBytes(StandardCharsets.UTF_8));
            return fromDeadLetter(plan, (DeadLetter) value, headers);
        }
        if (plan.rerun()) {
            headers.add(RERUN_HEADER, "true".getBytes(StandardCharsets.UTF_8));
        }
        String topic = plan.into() != null ? plan.into() : r.topic();
        return new ProducerRecord<>(topic, null, r.key(), r.value(), headers);
    }

    private ProducerRecord<byte[], byte[]> fromDeadLetter(Plan plan, DeadLetter d, RecordHeaders headers) {
        if (d == null) {
            return null;
        }
        if (d.getRequest() != null) {
            LlmRequest r = LlmRequest.newBuilder(d.getRequest()).build();
            if (plan.model() != null) {
                r.setModel(plan.model());
            }
            Priority level = d.getPriority() != null ? d.getPriority() : r.getPriority() != null ? r.getPriority() : Priority.NORMAL;
            r.setPriority(level);
            String topic = catalog.intake(level).name();
            String key = r.getIdempotencyKey() == null || r.getIdempotencyKey().isBlank()
                    ? r.getId() : r.getTenantId() + ":" + r.getIdempotencyKey();
            return new ProducerRecord<>(topic, null, key.getBytes(StandardCharsets.UTF_8),
                    serdes.value(LlmRequest.class).serialize(topic, r), headers);
        }
        if (d.getPayload() != null) {
            ByteBuffer b = d.getPayload().duplicate();
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            return new ProducerRecord<>(catalog.requests().name(), null,
                    d.getRequestId() == null ? null : d.getRequestId().getBytes(StandardCharsets.UTF_8), bytes, headers);
        }
        return null;
    }

    private static void pace(double rate, long sent, long t0) throws InterruptedException {
        if (rate <= 0) {
            return;
        }
        long due = t0 + (long) (sent / rate * 1e9);
        long wait = due - System.nanoTime();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }
}
