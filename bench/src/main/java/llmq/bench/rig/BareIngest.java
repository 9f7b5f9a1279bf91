package llmq.bench.rig;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Ingest's shape with no llmq code in it, for the ratio of the ingest scenario: an HTTP endpoint
 * ({@code POST /v1/requests} on the JDK's HTTP server, on loopback) that writes each request's body
 * to a topic of as many partitions as llmq's intake, with the producer settings ingest-api writes
 * intake with ({@code acks=all}, idempotent, no linger), and answers 202 once Kafka has acknowledged
 * it. No authentication, no validation, no Avro, no ACCEPTED event, no metrics: what is left is the
 * work any HTTP front of Kafka must do, and its rate on this machine and broker is the limit ingest
 * is compared with, measured with the same load generator minutes apart.
 *
 * <p>Why not Kafka's {@code ProducerPerformance} (ingest's denominator until run 20261207-085726):
 * on this broker its rate sits for minutes in one of two regimes, about 55 000-90 000 or
 * 105 000-140 000 records/s, with average latencies of 230-350 ms or 20-130 ms. Two consecutive runs
 * of 2026-12-07 measured it at 74 000 and 113 000 around ingest searches that found 4 800 and
 * 4 400/s, and the ratio moved by 40 %.
 */
public final class BareIngest implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService answers;
    private final KafkaProducer<String, byte[]> producer;
    private final String topic;
    private final AtomicLong next = new AtomicLong();

    private BareIngest(HttpServer server, ExecutorService answers, KafkaProducer<String, byte[]> producer, String topic) {
        this.server = server;
        this.answers = answers;
        this.producer = producer;
        this.topic = topic;
    }

    /** Creates its topic ({@code partitions}) on {@code kafka}'s broker and starts the endpoint on a free loopback port. */
    public static BareIngest start(Kafka kafka, int partitions) throws Exception {
        String topic = "bench-bare-ingest-" + UUID.randomUUID().toString().substring(0, 8);
        try (Admin admin = kafka.admin()) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
        KafkaProducer<String, byte[]> producer = kafka.producer();
        // as ingest-api: requests are read on a few threads and answered off the producer's I/O thread
        ExecutorService handlers = Executors.newFixedThreadPool(2, named("bench-bare-ingest-http"));
        ExecutorService answers = Executors.newFixedThreadPool(2, named("bench-bare-ingest-acks"));
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
        server.setExecutor(handlers);
        BareIngest bare = new BareIngest(server, answers, producer, topic);
        server.createContext("/v1/requests", bare::handle);
        server.start();
        return bare;
    }

    /** The base URL (as ingest's: the load generator posts to {@code <url>/v1/requests}). */
    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
        }
        String key = Long.toString(next.incrementAndGet());
        try {
            producer.send(new ProducerRecord<>(topic, key, body), (md, error) -> answers.execute(() -> answer(exchange,
                    error == null ? 202 : 503, error == null ? "{\"id\":\"" + key + "\"}" : "{\"error\":\"unavailable\"}")));
        } catch (RuntimeException e) {
            answer(exchange, 503, "{\"error\":\"unavailable\"}");
        }
    }

    private static void answer(HttpExchange exchange, int status, String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        try (OutputStream out = exchange.getResponseBody()) {
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, bytes.length);
            out.write(bytes);
        } catch (IOException e) {
            // the client went away: nothing to answer
        }
    }

    @Override
    public void close() throws InterruptedException {
        server.stop(0);
        producer.close();
        answers.shutdown();
        answers.awaitTermination(5, TimeUnit.SECONDS);
        ((ExecutorService) server.getExecutor()).shutdownNow();
    }

    private static java.util.concurrent.ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
