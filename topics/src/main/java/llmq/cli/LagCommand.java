package llmq.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import llmq.common.config.Settings;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code llmq lag}: how far each stage is behind, per group and topic (the levels show as the
 * topics {@code llm.requests.<level>} and {@code llm.queue.<level>}). Streams apps are groups named
 * by their application id.
 */
@Command(name = "lag", mixinStandardHelpOptions = true, description = "Consumer-group and Streams lag per stage, topic and level.")
final class LagCommand implements Callable<Integer> {

    @ParentCommand
    LlmqCli root;
    @Spec
    CommandSpec spec;
    @Option(names = "--group", description = "only these groups (default: every group whose name starts with llmq)")
    List<String> groups;
    @Option(names = "--all", description = "include replay groups")
    boolean all;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Settings s = root.settings();
        try (Admin admin = root.admin(s)) {
            List<String> names = new ArrayList<>();
            if (groups != null && !groups.isEmpty()) {
                names.addAll(groups);
            } else {
                for (ConsumerGroupListing g : admin.listConsumerGroups().all().get()) {
                    if (g.groupId().startsWith("llmq") && (all || !g.groupId().startsWith("llmq-replay-"))) {
                        names.add(g.groupId());
                    }
                }
            }
            names.sort(String::compareTo);
            out.printf("%-34s %-44s %12s%n", "group", "topic", "lag");
            for (String g : names) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(g).partitionsToOffsetAndMetadata().get();
                Map<TopicPartition, OffsetSpec> request = new HashMap<>();
                committed.keySet().forEach(tp -> request.put(tp, OffsetSpec.latest()));
                Map<TopicPartition, Long> end = new HashMap<>();
                admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get()
                        .forEach((tp, info) -> end.put(tp, info.offset()));
                Map<String, Long> byTopic = new TreeMap<>();
                committed.forEach((tp, om) -> {
                    if (om != null && end.containsKey(tp)) {
                        byTopic.merge(tp.topic(), Math.max(0, end.get(tp) - om.offset()), Long::sum);
                    }
                });
                if (byTopic.isEmpty()) {
                    out.printf("%-34s %-44s %12s%n", g, "(no committed offsets)", "-");
                }
                byTopic.forEach((t, lag) -> out.printf("%-34s %-44s %12d%n", g, t, lag));
            }
        }
        return 0;
    }
}
