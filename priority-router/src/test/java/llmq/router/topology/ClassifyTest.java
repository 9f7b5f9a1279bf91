package llmq.router.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import llmq.avro.DeadLetter;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.Tenant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The public llm.requests topic: Avro or JSON in, classified intake or a dead letter out. */
class ClassifyTest {

    private RouterDriver router;

    private RouterDriver router(Map<String, String> settings) {
        router = new RouterDriver(settings);
        return router;
    }

    @AfterEach
    void close() {
        router.close();
    }

    private static byte[] json(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String valid(String id, String tenant, String extra) {
        return "{\"id\":\"" + id + "\",\"tenant_id\":\"" + tenant + "\",\"model\":\"sim-small\"," + extra
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
    }

    @Test
    void shouldDeadLetterEachKindOfBadRecordWithItsReasonAndKeepProcessing() {
        RouterDriver r = router(Map.of());
        r.publish(new byte[] {(byte) 0xff, 0x13, 0x37});
        r.publish(json("{\"tenant_id\":\"acme\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
        r.publish(ByteBuffer.allocate(9).put((byte) 0).putInt(999).putInt(42).array());
        byte[] huge = new byte[5 * 1024 * 1024];
        Arrays.fill(huge, (byte) 'x');
        huge[0] = '{';
        r.publish(huge);
        r.publish(json(valid("ok-1", "acme", "")));

        List<DeadLetter> dead = r.deadLetters();
        assertThat(dead).extracting(DeadLetter::getErrorClass)
                .containsExactly("undecodable", "invalid_request", "unknown_schema", "oversized");
        assertThat(dead.get(1).getErrorMessage()).contains("model");
        assertThat(dead.get(2).getErrorMessage()).contains("999");
        assertThat(dead.get(3).getErrorMessage()).contains("5242880 bytes");
        assertThat(dead.get(3).getPayload().remaining()).isEqualTo(64 * 1024);
        assertThat(dead).allSatisfy(d -> {
            assertThat(d.getStage()).isEqualTo("classifier");
            assertThat(d.getSourceTopic()).isEqualTo("llm.requests");
        });
        assertThat(dead).extracting(DeadLetter::getSourceOffset).containsExactly(0L, 1L, 2L, 3L);
        // the valid record after them went all the way to a queue
        assertThat(r.releasedIds()).containsExactly("ok-1");
        assertThat(r.events("ok-1", EventType.ACCEPTED)).hasSize(1);
    }

    @Test
    void shouldAcceptAvroInTheConfluentWireFormat() {
        RouterDriver r = router(Map.of());
        LlmRequest req = RouterDriver.request("avro-1", "acme", Priority.HIGH, 10);
        r.publish(r.serdes.value(LlmRequest.class).serialize("llm.requests", req));
        assertThat(r.released()).singleElement().satisfies(rec -> {
            assertThat(rec.key()).isEqualTo("avro-1");
            assertThat(rec.value().getPriority()).isEqualTo(Priority.HIGH);
        });
    }

    @Test
    void shouldGiveAJsonRequestWithoutIdAStableIdFromItsPosition() {
        RouterDriver r = router(Map.of());
        r.publish(json("{\"tenant_id\":\"acme\",\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"));
        String id = r.releasedIds().get(0);
        assertThat(id).isEqualTo(java.util.UUID.nameUUIDFromBytes("llm.requests/0/0".getBytes(StandardCharsets.UTF_8)).toString());
    }

    private static Tenant tenant(String id, Priority dflt, Priority max) {
        return Tenant.newBuilder().setId(id).setName(id).setDefaultPriority(dflt).setMaxPriority(max)
                .setUpdatedAt(Instant.EPOCH).build();
    }

    private Priority levelOf(RouterDriver r, String id) {
        return r.released(id).get(0).value().getPriority();
    }

    @Test
    void shouldClassifyByExplicitPriorityThenRulesThenTheTenantsDefaultWithinItsMaximum() {
        RouterDriver r = router(Map.of("router.classify.keywords.high", "urgent,asap",
                "router.classify.large-prompt-tokens", "50", "router.classify.require-known-tenant", "true"));
        r.tenant(tenant("acme", Priority.NORMAL, Priority.HIGH));
        r.publish(json(valid("explicit", "acme", "\"priority\":\"high\",")));
        r.publish(json(valid("too-high", "acme", "\"priority\":\"realtime\",")));
        r.publish(json("{\"id\":\"keyword\",\"tenant_id\":\"acme\",\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"URGENT: page me\"}]}"));
        r.publish(json("{\"id\":\"large\",\"tenant_id\":\"acme\",\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\""
                + "word ".repeat(100) + "\"}]}"));
        r.publish(json(valid("plain", "acme", "")));
        r.publish(json(valid("stranger", "nobody", "")));

        assertThat(levelOf(r, "explicit")).isEqualTo(Priority.HIGH);
        assertThat(levelOf(r, "too-high")).isEqualTo(Priority.NORMAL);
        assertThat(levelOf(r, "keyword")).isEqualTo(Priority.HIGH);
        assertThat(levelOf(r, "large")).isEqualTo(Priority.LOW);
        assertThat(levelOf(r, "plain")).isEqualTo(Priority.NORMAL);
        assertThat(r.deadLetters()).singleElement().satisfies(d -> {
            assertThat(d.getErrorClass()).isEqualTo("unknown_tenant");
            assertThat(d.getErrorMessage()).contains("nobody");
        });
    }

    @Test
    void shouldNeverClassifyAboveTheTenantsMaximum() {
        RouterDriver r = router(Map.of("router.classify.keywords.realtime", "now", "router.classify.require-known-tenant", "true"));
        r.tenant(tenant("free", Priority.LOW, Priority.NORMAL));
        r.publish(json("{\"id\":\"k\",\"tenant_id\":\"free\",\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"do it now\"}]}"));
        assertThat(levelOf(r, "k")).isEqualTo(Priority.NORMAL);
    }
}
