package llmq.standalone;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import llmq.common.config.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code llmq up}: runs the whole system on this machine until Ctrl-C. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Run everything on this machine: Kafka, PostgreSQL, schema registry, model simulator and all services.")
public final class UpCommand implements Callable<Integer> {

    @Option(names = "--data-dir", description = "where data is kept across restarts (default: ${DEFAULT-VALUE})")
    Path dataDir = Path.of("llmq-data");

    @Option(names = "--wipe", description = "delete the data directory first")
    boolean wipe;

    @Option(names = "--config", description = "properties file with llmq settings")
    Path config;

    @Option(names = "--set", description = "a setting key=value (repeatable)")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--kafka-port", description = "default: ${DEFAULT-VALUE}")
    int kafkaPort = 9092;
    @Option(names = "--kafka-controller-port", description = "default: ${DEFAULT-VALUE}")
    int controllerPort = 9093;
    @Option(names = "--postgres-port", description = "default: ${DEFAULT-VALUE}")
    int postgresPort = 5433;
    @Option(names = "--registry-port", description = "default: ${DEFAULT-VALUE}")
    int registryPort = 8081;
    @Option(names = "--model-port", description = "model simulator, default: ${DEFAULT-VALUE}")
    int modelPort = 8090;
    @Option(names = "--port", description = "ingest API, default: ${DEFAULT-VALUE}")
    int ingestPort = 8080;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (wipe && Files.exists(dataDir)) {
            out.println("wiping " + dataDir.toAbsolutePath());
            deleteTree(dataDir);
        }
        Settings user = Settings.builder().file(config).environment(System.getenv()).systemProperties()
                .overrides(overrides).build();
        Stack.Ports defaults = Stack.Ports.defaults();
        Stack.Ports ports = new Stack.Ports(kafkaPort, controllerPort, postgresPort, registryPort, modelPort, ingestPort,
                defaults.routerAdmin(), defaults.workerAdmin(), defaults.billingAdmin());
        Stack stack = Stack.start(dataDir, ports, user);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("\nllmq: stopping...");
            stack.close();
            stopped.countDown();
        }, "llmq-stop"));
        out.println(banner(stack));
        out.flush();
        stopped.await();
        return 0;
    }

    static String banner(Stack s) {
        String url = s.ingestUrl();
        return String.join("\n",
                "",
                "llmq is up. Data: " + s.settings().raw("router.state-dir").replace("/router", ""),
                "  ingest API       " + url + "   (POST /v1/requests, GET /v1/requests/{id}, /health, /metrics)",
                "  Kafka            " + s.kafka().bootstrapServers(),
                "  schema registry  " + s.registryUrl(),
                "  PostgreSQL       " + s.postgres().jdbcUrl() + "  (user llmq)",
                "  model simulator  " + s.model().baseUrl() + "  (audit: " + s.model().rootUrl() + "/audit/summary)",
                "  admin endpoints  router :" + s.settings().raw("router.admin.port") + " (/v1/backlog), worker :"
                        + s.settings().raw("worker.admin.port") + ", billing :" + s.settings().raw("billing.admin.port")
                        + " (/v1/usage)",
                "  API reference    " + url + "/openapi.yaml  (docs/api.md)",
                "",
                "Development API key (tenant 'dev'):",
                "  " + s.apiKey(),
                "Admin token (" + url + "/admin/tenants, /admin/api-keys, /admin/prices):",
                "  " + s.adminToken(),
                "",
                "Try it:",
                "  curl -s " + url + "/v1/requests -H 'Authorization: Bearer " + s.apiKey() + "' \\",
                "    -H 'Content-Type: application/json' \\",
                "    -d '{\"model\":\"sim-small\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}]}'",
                "  curl -s " + url + "/v1/requests/<id> -H 'Authorization: Bearer " + s.apiKey() + "'",
                "",
                "Ctrl-C stops everything; data stays in the data directory (--wipe to start afresh).");
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
