package llmq.topics.provision;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Brings a broker in line with the {@link TopicCatalog} without destroying data: {@link #diff()}
 * lists what differs; {@link #apply()} creates missing topics and reports everything else
 * (partition counts and configs are never changed automatically).
 */
public final class TopicProvisioner {

    private final Admin admin;
    private final TopicCatalog catalog;

    public TopicProvisioner(Admin admin, TopicCatalog catalog) {
        this.admin = admin;
        this.catalog = catalog;
    }

    /** Everything that differs between the broker and the catalog. */
    public List<Drift> diff() throws InterruptedException, ExecutionException {
        List<Drift> out = new ArrayList<>();
        Set<String> existing = admin.listTopics().names().get();
        List<TopicSpec<?>> present = new ArrayList<>();
        for (TopicSpec<?> t : catalog.all()) {
            if (existing.contains(t.name())) {
                present.add(t);
            } else {
                out.add(new Drift(t.name(), Drift.Kind.MISSING, "present", "absent"));
            }
        }
        if (present.isEmpty()) {
            return out;
        }
        Collection<String> names = present.stream().map(TopicSpec::name).collect(Collectors.toList());
        Map<String, TopicDescription> descriptions = admin.describeTopics(names).allTopicNames().get();
        List<ConfigResource> resources = names.stream()
                .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).collect(Collectors.toList());
        Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get();
        for (TopicSpec<?> t : present) {
            TopicDescription d = descriptions.get(t.name());
            if (d.partitions().size() != t.partitions()) {
                out.add(new Drift(t.name(), Drift.Kind.PARTITIONS, Integer.toString(t.partitions()),
                        Integer.toString(d.partitions().size())));
            }
            int rf = d.partitions().get(0).replicas().size();
            if (catalog.replicationFactor() > 0 && rf != catalog.replicationFactor()) {
                out.add(new Drift(t.name(), Drift.Kind.REPLICATION, Short.toString(catalog.replicationFactor()),
                        Integer.toString(rf)));
            }
            Config actual = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, t.name()));
            t.config().forEach((key, expected) -> {
                ConfigEntry e = actual.get(key);
                String value = e == null ? null : e.value();
                if (!sameConfig(key, expected, value)) {
                    out.add(new Drift(t.name(), Drift.Kind.CONFIG, key + "=" + expected, String.valueOf(value)));
                }
            });
        }
        return out;
    }

    private static boolean sameConfig(String key, String expected, String actual) {
        if (actual == null) {
            return false;
        }
        if ("cleanup.policy".equals(key)) {
            return Set.of(expected.split(",")).equals(Set.of(actual.replace(" ", "").split(",")));
        }
        return expected.equals(actual);
    }

    /** Creates the missing topics; returns every drift that remains (not MISSING ones it fixed). */
    public ApplyResult apply() throws InterruptedException, ExecutionException {
        List<Drift> before = diff();
        List<NewTopic> create = new ArrayList<>();
        for (Drift d : before) {
            if (d.kind() == Drift.Kind.MISSING) {
                TopicSpec<?> t = catalog.byName(d.topic()).orElseThrow();
                Optional<Short> rf = catalog.replicationFactor() > 0 ? Optional.of(catalog.replicationFactor()) : Optional.empty();
                create.add(new NewTopic(t.name(), Optional.of(t.partitions()), rf).configs(new HashMap<>(t.config())));
            }
        }
        List<String> created = new ArrayList<>();
        if (!create.isEmpty()) {
            var results = admin.createTopics(create).values();
            for (var e : results.entrySet()) {
                try {
                    e.getValue().get();
                    created.add(e.getKey());
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) {
                        throw ex;
                    }
                }
            }
        }
        List<Drift> remaining = before.stream().filter(d -> d.kind() != Drift.Kind.MISSING).collect(Collectors.toList());
        return new ApplyResult(List.copyOf(created), remaining);
    }

    /**
     * Outcome of {@link #apply()}.
     *
     * @param created topics created now
     * @param drift   differences left for an operator to decide on
     */
    public record ApplyResult(List<String> created, List<Drift> drift) {
    }
}
