package llmq.cli;

import java.util.List;
import java.util.concurrent.Callable;
import llmq.common.config.Settings;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSpec;
import llmq.topics.provision.Drift;
import llmq.topics.provision.TopicProvisioner;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code llmq topics}: list, diff and apply the topic catalog. */
@Command(name = "topics", mixinStandardHelpOptions = true,
        description = "Compare the broker's topics with llmq's catalog, create missing ones.",
        subcommands = {TopicsCommand.Diff.class, TopicsCommand.Apply.class, TopicsCommand.ListTopics.class})
final class TopicsCommand {

    @ParentCommand
    LlmqCli root;

    /** {@code llmq topics diff}: exit 0 when the broker matches, 1 when anything differs. */
    @Command(name = "diff", mixinStandardHelpOptions = true,
            description = "Report topics that are missing or differ (partitions, replication, config). Exit 1 on drift.")
    static final class Diff implements Callable<Integer> {
        @ParentCommand
        TopicsCommand topics;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Settings s = topics.root.settings();
            try (Admin admin = topics.root.admin(s)) {
                List<Drift> drift = new TopicProvisioner(admin, TopicCatalog.from(s)).diff();
                drift.forEach(d -> spec.commandLine().getOut().println(d));
                if (drift.isEmpty()) {
                    spec.commandLine().getOut().println("no drift: every topic matches the catalog");
                }
                return drift.isEmpty() ? 0 : 1;
            }
        }
    }

    /** {@code llmq topics apply}: create missing topics, report other drift (exit 1 if any remains). */
    @Command(name = "apply", mixinStandardHelpOptions = true,
            description = "Create missing topics. Partition counts and configs of existing topics are reported, never changed.")
    static final class Apply implements Callable<Integer> {
        @ParentCommand
        TopicsCommand topics;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Settings s = topics.root.settings();
            try (Admin admin = topics.root.admin(s)) {
                TopicProvisioner.ApplyResult r = new TopicProvisioner(admin, TopicCatalog.from(s)).apply();
                r.created().forEach(t -> spec.commandLine().getOut().println("created " + t));
                r.drift().forEach(d -> spec.commandLine().getOut().println("drift (not changed): " + d));
                if (r.created().isEmpty() && r.drift().isEmpty()) {
                    spec.commandLine().getOut().println("nothing to do: every topic matches the catalog");
                }
                return r.drift().isEmpty() ? 0 : 1;
            }
        }
    }

    /** {@code llmq topics list}: the catalog, offline. */
    @Command(name = "list", mixinStandardHelpOptions = true, description = "Print the topic catalog.")
    static final class ListTopics implements Callable<Integer> {
        @ParentCommand
        TopicsCommand topics;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            TopicCatalog c = TopicCatalog.from(topics.root.settings());
            for (TopicSpec<?> t : c.all()) {
                spec.commandLine().getOut().printf("%-22s %2d  key: %-50s value: %-14s %s%n", t.name(), t.partitions(),
                        t.key(), t.valueType().getSimpleName(), t.config());
            }
            return 0;
        }
    }
}
