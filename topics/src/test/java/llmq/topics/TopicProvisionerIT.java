package llmq.topics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import llmq.cli.LlmqCli;
import llmq.embedded.kafka.EmbeddedKafka;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.provision.Drift;
import llmq.topics.provision.TopicProvisioner;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/** The provisioner and the {@code llmq topics} CLI against a real KRaft broker. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TopicProvisionerIT {

    @TempDir
    static Path dir;
    static EmbeddedKafka kafka;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0, 0, Map.of());
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
    }

    private Admin admin() {
        return Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    }

    private String[] cli(String... args) {
        String[] full = new String[args.length + 2];
        full[0] = "--bootstrap-servers";
        full[1] = kafka.bootstrapServers();
        System.arraycopy(args, 0, full, 2, args.length);
        return full;
    }

    private static int run(StringWriter out, String... args) {
        return LlmqCli.run(args, new PrintWriter(out, true), new PrintWriter(out, true));
    }

    @Test
    @Order(1)
    void shouldReportWrongPartitionCountOfAnExistingTopic() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("llm.results", 2, (short) 1))).all().get();
        }
        StringWriter out = new StringWriter();
        int rc = run(out, cli("topics", "diff"));
        assertThat(rc).isEqualTo(1);
        assertThat(out.toString()).contains("llm.results: partitions 2, catalog says 6")
                .contains("llm.queue.realtime: missing");
    }

    @Test
    @Order(2)
    void shouldCreateMissingTopicsAndLeaveDriftedOnesAlone() throws Exception {
        StringWriter out = new StringWriter();
        int rc = run(out, cli("topics", "apply"));
        assertThat(out.toString()).contains("created llm.queue.realtime")
                .contains("drift (not changed): llm.results: partitions 2, catalog says 6");
        assertThat(rc).isEqualTo(1);
        try (Admin admin = admin()) {
            assertThat(admin.describeTopics(List.of("llm.results")).allTopicNames().get().get("llm.results")
                    .partitions()).hasSize(2);
            List<Drift> drift = new TopicProvisioner(admin, TopicCatalog.defaults()).diff();
            // the hand-made topic also lacks the catalog's cleanup policy: both are reported
            assertThat(drift).extracting(Drift::topic).containsOnly("llm.results");
            assertThat(drift).extracting(Drift::kind).containsExactlyInAnyOrder(Drift.Kind.PARTITIONS, Drift.Kind.CONFIG);
            // bring it back in line for the next test: recreate with the catalog's count
            admin.deleteTopics(List.of("llm.results")).all().get();
            awaitGone(admin, "llm.results");
        }
    }

    @Test
    @Order(3)
    void shouldChangeNothingWhenApplyingToAProvisionedBroker() throws Exception {
        try (Admin admin = admin()) {
            TopicProvisioner provisioner = new TopicProvisioner(admin, TopicCatalog.defaults());
            assertThat(provisioner.apply().created()).containsExactly("llm.results");
            TopicProvisioner.ApplyResult again = provisioner.apply();
            assertThat(again.created()).isEmpty();
            assertThat(again.drift()).isEmpty();
        }
        StringWriter out = new StringWriter();
        assertThat(run(out, cli("topics", "apply"))).isEqualTo(0);
        assertThat(out.toString()).contains("nothing to do");
        StringWriter diff = new StringWriter();
        assertThat(run(diff, cli("topics", "diff"))).isEqualTo(0);
        assertThat(diff.toString()).contains("no drift");
    }

    @Test
    @Order(4)
    void shouldReportConfigDrift() throws Exception {
        try (Admin admin = admin()) {
            var resource = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "llm.events");
            admin.incrementalAlterConfigs(Map.of(resource, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                    new org.apache.kafka.clients.admin.ConfigEntry("retention.ms", "1000"),
                    org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get();
            List<Drift> drift = new TopicProvisioner(admin, TopicCatalog.defaults()).diff();
            assertThat(drift).singleElement().satisfies(d -> {
                assertThat(d.kind()).isEqualTo(Drift.Kind.CONFIG);
                assertThat(d.toString()).isEqualTo("llm.events: retention.ms is 1000, catalog says 259200000");
            });
        }
    }

    @Test
    void shouldExitWithUsageErrorOnBadBootstrapSetting() {
        StringWriter out = new StringWriter();
        int rc = run(out, "--bootstrap-servers", "not a host", "topics", "diff");
        assertThat(rc).isEqualTo(2);
        assertThat(out.toString()).contains("kafka.bootstrap.servers");
    }

    private static void awaitGone(Admin admin, String topic) throws Exception {
        for (int i = 0; i < 100 && admin.listTopics().names().get().contains(topic); i++) {
            Thread.sleep(100);
        }
    }
}
