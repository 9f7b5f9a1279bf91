package llmq.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import llmq.avro.Priority;
import llmq.avro.ResultStatus;
import llmq.common.config.Settings;
import llmq.common.json.Json;
import llmq.ingest.support.Api;
import llmq.ingest.support.Fuzzer;
import llmq.ingest.support.Tenants;
import llmq.modelsim.ModelSimConfig;
import llmq.modelsim.ModelSimulator;
import llmq.router.RouterService;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import llmq.worker.WorkerService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ingest-api in front of the real pipeline, every part in this JVM: priority-router, worker and the
 * model simulator on the shared broker. The official {@code openai} npm client (run by node), a batch
 * of a thousand lines, cancellation by the router, the queue view, and the fuzz test go through it.
 */
@IntegrationTest
class PipelineIT {

    /** The official SDK, pinned. */
    static final String OPENAI_NPM = "openai@6.49.0";

    private static Infra infra;
    private static final Deque<AutoCloseable> running = new ArrayDeque<>();
    private static ModelSimulator sim;
    private static IngestApi ingest;
    private static Api api;
    private static Tenants.Created tenant;
    private static Tenants.Created other;

    @BeforeAll
    static void startEverything(Infra shared) throws Exception {
        infra = shared;
        tenant = Tenants.create(infra, "pipe", Priority.REALTIME, null, null);
        other = Tenants.create(infra, "pipe-other", Priority.HIGH, null, null);
        String id = "it-ingest-pipeline-" + UUID.randomUUID().toString().substring(0, 8);
        try (KafkaIo io = new KafkaIo(infra)) {
            io.startGroupAtEnd(id + "-callbacks", List.of(infra.catalog().callbacks().name()));
        }
        sim = track(ModelSimulator.start(ModelSimConfig.from(Settings.of(Map.of("modelsim.port", "0")))));
        RouterService router = track(RouterService.start(infra.settings(Map.of(
                "router.application-id", id + "-router",
                "router.state-dir", infra.newDirectory("ingest-pipeline-router").toString(),
                "router.admin.port", "0"))));
        track(WorkerService.start(infra.settings(Map.of(
                "worker.group-id", id + "-worker",
                "worker.endpoint.url", sim.baseUrl(),
                "worker.endpoint.name", "sim",
                "worker.health.interval", "0",
                "worker.admin.port", "0"))));
        ingest = track(IngestApi.start(infra.settings(Map.of(
                "ingest.port", "0",
                "ingest.status.application-id", id + "-ingest-status",
                "ingest.status.state-dir", infra.newDirectory("ingest-pipeline-status").toString(),
                "ingest.models", "sim-small",
                "ingest.router-admin-url", "http://127.0.0.1:" + router.adminPort(),
                "ingest.openai.timeout", "60s",
                "ingest.max-body", "65536",
                "ingest.callbacks.group-id", id + "-callbacks"))));
        api = new Api(ingest.url());
        api.awaitKey(tenant.key());
        api.awaitKey(other.key());
    }

    @AfterAll
    static void stopEverything() throws Exception {
        while (!running.isEmpty()) {
            running.pop().close();
        }
    }

    private static <T extends AutoCloseable> T track(T c) {
        running.push(c);
        return c;
    }

    private static JsonNode json(HttpResponse<String> r) {
        return Api.json(r);
    }

    private static JsonNode awaitStatus(String id, String status) {
        return KafkaIo.until(() -> json(api.get("/v1/requests/" + id, tenant.key())), n -> n.path("status").asText().equals(status));
    }

    // ---------------------------------------------------------------- OpenAI compatibility

    /** Acceptance: the official openai client, unchanged but for the base URL, completes and streams through llmq. */
    @Test
    void shouldServeTheOfficialOpenAiClientAStreamingAndANonStreamingChatCompletion() throws Exception {
        Path dir = Path.of("target", "openai-node").toAbsolutePath();
        npmInstall(dir);
        try (InputStream script = PipelineIT.class.getResourceAsStream("/openai/chat.mjs")) {
            Files.copy(script, dir.resolve("chat.mjs"), StandardCopyOption.REPLACE_EXISTING);
        }
        Process node = new ProcessBuilder("node", "chat.mjs", ingest.url() + "/v1", tenant.key(), "sim-small")
                .directory(dir.toFile()).redirectErrorStream(false).start();
        byte[] stdout = node.getInputStream().readAllBytes();
        String stderr = new String(node.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(node.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(node.exitValue()).as("node exited: %s", stderr).isZero();
        JsonNode out = Json.mapper().readTree(stdout);
        System.out.println("openai SDK saw: " + out);

        assertThat(out.path("models")).extracting(JsonNode::asText).contains("sim-small");

        JsonNode c = out.path("completion");
        assertThat(c.path("object").asText()).isEqualTo("chat.completion");
        assertThat(c.path("role").asText()).isEqualTo("assistant");
        assertThat(c.path("finish_reason").asText()).isNotEmpty();
        assertThat(c.path("content").asText()).isNotBlank();
        assertThat(c.path("usage").path("total_tokens").asInt())
                .isEqualTo(c.path("usage").path("prompt_tokens").asInt() + c.path("usage").path("completion_tokens").asInt())
                .isPositive();
        String completionId = c.path("id").asText();
        assertThat(completionId).startsWith("chatcmpl-");
        JsonNode viaQueue = json(api.get("/v1/requests/" + completionId.substring("chatcmpl-".length()), tenant.key()));
        assertThat(viaQueue.path("status").asText()).isEqualTo("completed");
        assertThat(viaQueue.path("priority").asText()).as("X-LLMQ-Priority of the client").isEqualTo("high");
        assertThat(viaQueue.path("result").path("output").asText()).isEqualTo(c.path("content").asText());

        JsonNode s = out.path("stream");
        assertThat(s.path("role").asText()).isEqualTo("assistant");
        assertThat(s.path("content").asText()).isNotBlank();
        assertThat(s.path("chunks").asInt()).isGreaterThanOrEqualTo(4);
        assertThat(s.path("finish_reason").asText()).isNotEmpty();
        assertThat(s.path("usage").path("completion_tokens").asInt()).isPositive();
        JsonNode streamed = json(api.get("/v1/requests/" + s.path("id").asText().substring("chatcmpl-".length()), tenant.key()));
        assertThat(streamed.path("priority").asText()).as("the priority body field").isEqualTo("low");
        assertThat(streamed.path("result").path("output").asText()).as("the chunks make the whole output")
                .isEqualTo(s.path("content").asText());

        JsonNode error = out.path("error");
        assertThat(error.path("status").asInt()).isEqualTo(400);
        assertThat(error.path("name").asText()).isEqualTo("BadRequestError");
        assertThat(error.path("param").asText()).isEqualTo("model");
    }

    private static void npmInstall(Path dir) throws Exception {
        String version = OPENAI_NPM.substring(OPENAI_NPM.indexOf('@') + 1);
        Path pkg = dir.resolve("node_modules/openai/package.json");
        if (Files.exists(pkg) && Json.mapper().readTree(pkg.toFile()).path("version").asText().equals(version)) {
            return;
        }
        Files.createDirectories(dir);
        Process npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund", "--no-package-lock", OPENAI_NPM)
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String log = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(npm.waitFor(300, TimeUnit.SECONDS)).as("npm install finished").isTrue();
        assertThat(npm.exitValue()).as("npm install %s: %s", OPENAI_NPM, log).isZero();
    }

    // ---------------------------------------------------------------- batches

    /** Acceptance: a batch of 1 000 JSONL lines completes and its results file has 1 000 lines with every custom_id. */
    @Test
    void shouldCompleteABatchOfAThousandLinesWithEveryCustomIdInItsResults() throws Exception {
        StringBuilder body = new StringBuilder();
        Set<String> customIds = new TreeSet<>();
        for (int i = 0; i < 1000; i++) {
            String cid = "line-" + String.format("%04d", i);
            customIds.add(cid);
            if (i % 2 == 0) {
                body.append("{\"custom_id\":\"").append(cid).append("\",\"model\":\"sim-small\",\"max_tokens\":16,")
                        .append("\"messages\":[{\"role\":\"user\",\"content\":\"batch question ").append(i).append("\"}]}\n");
            } else {
                body.append("{\"custom_id\":\"").append(cid).append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",")
                        .append("\"body\":{\"model\":\"sim-small\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",")
                        .append("\"content\":\"batch question ").append(i).append("\"}]}}\n");
            }
        }
        long t0 = System.nanoTime();
        HttpResponse<String> r = api.post("/v1/batches", tenant.key(), body.toString(), "Content-Type", "application/x-ndjson",
                "X-LLMQ-Priority", "low");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        String batch = json(r).path("id").asText();
        assertThat(json(r).path("total").asInt()).isEqualTo(1000);

        JsonNode progress = null;
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline) {
            progress = json(api.get("/v1/batches/" + batch, tenant.key()));
            if ("completed".equals(progress.path("status").asText())) {
                break;
            }
            Thread.sleep(200);
        }
        System.out.printf("batch of 1000: completed in %d ms: %s%n", (System.nanoTime() - t0) / 1_000_000, progress);
        assertThat(progress.path("status").asText()).isEqualTo("completed");
        assertThat(progress.path("done").asInt()).isEqualTo(1000);
        assertThat(progress.path("counts").path("completed").asInt()).isEqualTo(1000);

        HttpResponse<String> results = api.get("/v1/batches/" + batch + "/results", tenant.key());
        assertThat(results.statusCode()).isEqualTo(200);
        assertThat(results.headers().firstValue("Content-Type").orElse("")).contains("application/x-ndjson");
        String[] lines = results.body().split("\n");
        assertThat(lines).hasSize(1000);
        Set<String> seen = new TreeSet<>();
        Set<String> requests = new TreeSet<>();
        for (String line : lines) {
            JsonNode l = Json.mapper().readTree(line);
            seen.add(l.path("custom_id").asText());
            requests.add(l.path("request_id").asText());
            assertThat(l.path("status").asText()).isEqualTo("completed");
            assertThat(l.path("output").asText()).isNotBlank();
        }
        assertThat(seen).isEqualTo(customIds);
        assertThat(requests).hasSize(1000);
        JsonNode one = json(api.get("/v1/requests/" + requests.iterator().next(), tenant.key()));
        assertThat(one.path("batch_id").asText()).isEqualTo(batch);
        assertThat(one.path("original_priority").asText()).isEqualTo("low");
        assertThat(api.get("/v1/batches/" + batch, other.key()).statusCode()).isEqualTo(404);
    }

    // ---------------------------------------------------------------- the router's part

    @Test
    void shouldCancelARequestTheRouterHoldsAndRefuseToCancelAFinishedOne() {
        String later = Instant.now().plusSeconds(3600).toString();
        String held = json(api.post("/v1/requests", tenant.key(), "{\"model\":\"sim-small\",\"not_before\":\"" + later + "\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"wait for me\"}]}")).path("id").asText();
        JsonNode parked = awaitStatus(held, "parked");
        assertThat(parked.path("status").asText()).isEqualTo("parked");
        assertThat(KafkaIo.until(() -> json(api.get("/v1/requests/" + held, tenant.key())), n -> n.has("eligible_at"))
                .path("eligible_at").asText()).as("the router says until when it holds it").startsWith(later.substring(0, 16));

        HttpResponse<String> cancel = api.delete("/v1/requests/" + held, tenant.key());
        assertThat(cancel.statusCode()).as(cancel.body()).isIn(200, 202);
        assertThat(awaitStatus(held, "cancelled").path("status").asText()).isEqualTo("cancelled");
        assertThat(api.delete("/v1/requests/" + held, tenant.key()).statusCode()).as("cancelling again").isEqualTo(200);
        try (KafkaIo io = new KafkaIo(infra)) {
            assertThat(io.await(infra.catalog().results(), x -> x.key().equals(held), 1))
                    .extracting(x -> x.value().getStatus()).containsExactly(ResultStatus.CANCELLED);
        }

        String done = json(api.post("/v1/requests", tenant.key(), Api.request("sim-small", "finish first"))).path("id").asText();
        assertThat(awaitStatus(done, "completed").path("status").asText()).isEqualTo("completed");
        HttpResponse<String> tooLate = api.delete("/v1/requests/" + done, tenant.key());
        assertThat(tooLate.statusCode()).isEqualTo(409);
        assertThat(json(tooLate).path("error").path("type").asText()).isEqualTo("cannot_cancel");
    }

    @Test
    void shouldRunARequestRetriedWithItsIdempotencyKeyOnce() {
        String key = "once-" + UUID.randomUUID();
        HttpResponse<String> first = api.post("/v1/requests", tenant.key(), Api.request("sim-small", "only once"),
                "Idempotency-Key", key);
        HttpResponse<String> retry = api.post("/v1/requests", tenant.key(), Api.request("sim-small", "only once"),
                "Idempotency-Key", key);
        assertThat(first.statusCode()).isEqualTo(202);
        assertThat(retry.statusCode()).isEqualTo(200);
        String id = json(first).path("id").asText();
        assertThat(json(retry).path("id").asText()).isEqualTo(id);
        assertThat(awaitStatus(id, "completed").path("result").path("output").asText()).isNotBlank();
        assertThat(sim.audit().callsByRequestId().get(id)).as("model calls for the key").isEqualTo(1);
        HttpResponse<String> afterwards = api.post("/v1/requests", tenant.key(), Api.request("sim-small", "only once"),
                "Idempotency-Key", key);
        assertThat(json(afterwards).path("id").asText()).isEqualTo(id);
        assertThat(json(afterwards).path("status").asText()).isEqualTo("completed");
    }

    @Test
    void shouldAnswerQueuesWithTheRoutersBacklogAndTheWaitsItObserved() {
        for (int i = 0; i < 5; i++) {
            String id = json(api.post("/v1/requests", tenant.key(), "{\"model\":\"sim-small\",\"priority\":\"realtime\","
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"rt " + i + "\"}]}")).path("id").asText();
            awaitStatus(id, "completed");
        }
        JsonNode q = KafkaIo.until(() -> json(api.get("/v1/queues", tenant.key())),
                n -> n.path("levels").path("realtime").path("wait_ms").path("samples").asInt() >= 5);
        assertThat(q.path("router").asText()).isEqualTo("ok");
        JsonNode rt = q.path("levels").path("realtime");
        assertThat(rt.has("depth")).isTrue();
        assertThat(rt.path("releases_per_second").isNumber()).isTrue();
        assertThat(rt.path("wait_ms").path("p99").asLong()).isGreaterThanOrEqualTo(rt.path("wait_ms").path("p50").asLong());
        assertThat(rt.path("completed_per_second").asDouble()).isPositive();
        System.out.println("queues: " + q);
    }

    // ---------------------------------------------------------------- fuzz

    /** Acceptance: ≥ 5 000 randomly mutated bodies and headers (seeded): only 2xx and 4xx, never 5xx; the service stays healthy. */
    @Test
    void shouldAnswerOnly2xxOr4xxToFiveThousandMutatedRequestsAndStayHealthy() throws Exception {
        long seed = 20260705L;
        Fuzzer fuzzer = new Fuzzer(seed, tenant.key(), 65536);
        List<Fuzzer.Case> cases = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            cases.add(fuzzer.next());
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> serverErrors = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        for (Fuzzer.Case c : cases) {
            pool.submit(() -> {
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(ingest.url() + c.path())).timeout(Duration.ofSeconds(90))
                        .method(c.method(), c.body() == null ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofByteArray(c.body()));
                for (int i = 0; i + 1 < c.headers().size(); i += 2) {
                    b.setHeader(c.headers().get(i), c.headers().get(i + 1));
                }
                try {
                    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                    statuses.computeIfAbsent(r.statusCode(), k -> new AtomicInteger()).incrementAndGet();
                    if (r.statusCode() >= 500 || r.statusCode() < 200 || (r.statusCode() >= 300 && r.statusCode() < 400)) {
                        serverErrors.add(r.statusCode() + " for " + c + " -> " + r.body());
                    }
                } catch (IOException e) {
                    serverErrors.add("no answer (" + e + ") for " + c);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null;
            });
        }
        pool.shutdown();
        assertThat(pool.awaitTermination(10, TimeUnit.MINUTES)).isTrue();
        Map<Integer, Integer> counts = new TreeMap<>();
        statuses.forEach((k, v) -> counts.put(k, v.get()));
        System.out.println("fuzz (seed " + seed + "): " + counts.values().stream().mapToInt(Integer::intValue).sum()
                + " requests, statuses " + counts);
        assertThat(counts.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(5000);
        assertThat(serverErrors).as("answers other than 2xx/4xx").isEmpty();
        assertThat(counts.keySet()).as("both accepted and refused requests were exercised").contains(202, 400);
        HttpResponse<String> health = api.get("/health", null);
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(json(health).path("status").asText()).isEqualTo("UP");
        assertThat(api.post("/v1/requests", tenant.key(), Api.request("sim-small", "still fine")).statusCode()).isEqualTo(202);
    }
}
