package llmq.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import llmq.avro.ChatMessage;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.RequestParams;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import llmq.testsupport.ServiceProcess;
import org.junit.jupiter.api.Test;

/**
 * The router killed with {@code kill -9} in the middle of a stream of requests, then restarted:
 * every accepted request is released exactly once across the crash (exactly-once v2: the killed
 * instance's open transactions are aborted, its committed state is restored from the changelogs).
 */
@IntegrationTest
class RouterCrashIT {

    private static final int REQUESTS = 3000;

    @Test
    void shouldReleaseEveryAcceptedRequestExactlyOnceAcrossAKill9(Infra infra) throws Exception {
        String run = "crash-" + UUID.randomUUID().toString().substring(0, 8);
        Path dir = infra.newDirectory(run);
        Map<String, String> settings = new HashMap<>();
        settings.put("kafka.bootstrap.servers", infra.bootstrapServers());
        settings.put("registry.url", infra.registryUrl());
        settings.put("router.application-id", run);
        settings.put("router.state-dir", dir.resolve("state").toString());
        settings.put("router.admin.port", "0");
        // no workers in this test: let every request through without waiting for STARTED events
        for (Priority p : Priority.values()) {
            settings.put("router.queue.depth." + p.name().toLowerCase(), "1000000");
        }
        try (KafkaIo io = new KafkaIo(infra)) {
            // the new application starts at the end of the shared topics, not at other tests' records
            List<String> inputs = new ArrayList<>();
            for (Priority p : Priority.values()) {
                inputs.add(infra.catalog().intake(p).name());
            }
            io.startGroupAtEnd(run, inputs);
            io.startGroupAtEnd(run, List.of(infra.catalog().events().name(), infra.catalog().requests().name()));

            ServiceProcess first = ServiceProcess.start(RouterService.class.getName(), settings, dir.resolve("first.log"));
            List<String> ids = new ArrayList<>();
            ServiceProcess second = null;
            try {
                for (int i = 0; i < REQUESTS; i++) {
                    String id = run + "-" + i;
                    Priority level = Priority.values()[i % 4];
                    LlmRequest r = LlmRequest.newBuilder().setId(id).setTenantId("tenant-" + (i % 3)).setModel("sim-small")
                            .setMessages(List.of(new ChatMessage("user", "q" + i, null)))
                            .setParams(RequestParams.newBuilder().build()).setPriority(level)
                            .setSubmittedAt(Instant.now()).setSource("test").build();
                    io.send(infra.catalog().intake(level), id, r);
                    ids.add(id);
                    if (i == REQUESTS / 3) {
                        // wait until the router is visibly releasing, then kill it mid-stream
                        KafkaIo.until(() -> countReleased(io, infra, run), n -> n > 0);
                        first.kill();
                        second = ServiceProcess.start(RouterService.class.getName(), settings, dir.resolve("second.log"));
                    }
                    if (i % 100 == 0) {
                        Thread.sleep(20);
                    }
                }
                ServiceProcess restarted = second;
                Map<String, Long> released = KafkaIo.until(() -> releasedById(io, infra, run),
                        m -> m.size() >= REQUESTS);
                assertThat(released).as("router output:%n%s", restarted.output()).hasSize(REQUESTS);
                assertThat(released.keySet()).containsExactlyInAnyOrderElementsOf(ids);
                assertThat(released.values()).as("releases per request id").containsOnly(1L);
            } finally {
                first.close();
                if (second != null) {
                    second.close();
                }
            }
        }
    }

    private static long countReleased(KafkaIo io, Infra infra, String run) {
        return releasedById(io, infra, run).size();
    }

    private static Map<String, Long> releasedById(KafkaIo io, Infra infra, String run) {
        List<String> all = new ArrayList<>();
        for (Priority p : Priority.values()) {
            io.readAll(infra.catalog().queue(p), r -> r.key() != null && r.key().startsWith(run + "-"))
                    .forEach(r -> all.add(r.key()));
        }
        return all.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

}
