package llmq.ingest.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.ingest.status.RecentlyAccepted;
import llmq.ingest.tenants.Tenant;
import llmq.schemas.registry.InMemorySchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** Admission logic with Kafka's own MockProducer standing in for the acknowledgement (a unit test). */
class SubmitterTest {

    private final TopicCatalog catalog = TopicCatalog.defaults();
    private final TopicSerdes serdes = new TopicSerdes(new InMemorySchemaRegistryClient());
    private final MockProducer<String, byte[]> producer = new MockProducer<>(false, null, new StringSerializer(), new ByteArraySerializer());
    private final RecentlyAccepted recent = new RecentlyAccepted(Duration.ofMinutes(1), 10);
    private final Submitter submitter = new Submitter(producer, catalog, serdes, recent, new SimpleMeterRegistry());
    private final Tenant tenant = new Tenant("acme", "Acme", "standard", Priority.NORMAL, Priority.HIGH, 1.0);

    private static SubmitRequest request(Priority p, String idem) {
        return new SubmitRequest("m", List.of(new SubmitRequest.Message("user", "hi", null)), p, null, null, null,
                List.of(), null, idem, null, Map.of(), null, null, null, Map.of());
    }

    @Test
    void shouldWriteToTheTenantsDefaultLevelKeyedByDedupKeyAndAcceptOnlyAfterTheAck() throws Exception {
        var future = submitter.submit(tenant, request(null, "k1"), "http");
        assertThat(future).isNotDone();
        assertThat(producer.history()).singleElement().satisfies(r -> {
            assertThat(r.topic()).isEqualTo("llm.requests.normal");
            assertThat(r.key()).isEqualTo("acme:k1");
            LlmRequest sent = serdes.value(LlmRequest.class).deserialize(r.topic(), r.value());
            assertThat(sent.getTenantId()).isEqualTo("acme");
            assertThat(sent.getPriority()).isEqualTo(Priority.NORMAL);
        });
        producer.completeNext();
        Submitter.Accepted a = future.get();
        assertThat(a.priority()).isEqualTo(Priority.NORMAL);
        assertThat(recent.get(a.id(), java.time.Instant.now())).isPresent();
    }

    @Test
    void shouldFinishWhatIsInFlightWhenClosed() throws Exception {
        var future = submitter.submit(tenant, request(null, "k2"), "http");
        assertThat(future).isNotDone();
        submitter.close();
        // the write was flushed and acknowledged, the admission completed, and its ACCEPTED event sent before close returned
        assertThat(future).isCompleted();
        assertThat(producer.history()).extracting(r -> r.topic()).containsExactly("llm.requests.normal", "llm.events");
    }

    @Test
    void shouldAnswer503WithRetryAfterWhenKafkaDoesNotAcknowledge() {
        var future = submitter.submit(tenant, request(Priority.HIGH, null), "http");
        producer.errorNext(new TimeoutException("no broker"));
        assertThatThrownBy(future::get).isInstanceOf(ExecutionException.class).cause()
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(503);
                    assertThat(e.retryAfterSeconds()).isPositive();
                });
        assertThat(producer.history()).extracting(r -> r.topic()).doesNotContain("llm.events");
    }

    @Test
    void shouldRefuseAPriorityAboveTheTenantsMaximumNamingTheField() {
        assertThatThrownBy(() -> submitter.submit(tenant, request(Priority.REALTIME, null), "http"))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(403);
                    assertThat(e.field()).isEqualTo("priority");
                });
        assertThat(producer.history()).isEmpty();
    }

    @Test
    void shouldRefuseATenantOverBudgetWith402AndWriteNothing() {
        Submitter guarded = new Submitter(producer, catalog, serdes, recent, new SimpleMeterRegistry(), tenantId -> {
            throw new ApiException(402, "budget_exceeded", null, "monthly budget of " + tenantId + " exhausted");
        });

        assertThatThrownBy(() -> guarded.submit(tenant, request(Priority.HIGH, null), "http"))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(402));
        assertThat(producer.history()).isEmpty();
    }
}
