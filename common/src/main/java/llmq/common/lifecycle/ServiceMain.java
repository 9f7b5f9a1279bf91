package llmq.common.lifecycle;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one command-line entry shared by every service's {@code main}: parses
 * {@code --config <file>} and repeated {@code --set key=value}, layers them with the
 * environment ({@code LLMQ_*}) and {@code -Dllmq.*} system properties, starts the service,
 * and closes it on SIGTERM/Ctrl-C. A configuration error exits with status 2 and one line
 * naming the key.
 */
public final class ServiceMain {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceMain.class);

    /** Starts a service from its settings; the returned handle stops it. */
    @FunctionalInterface
    public interface Starter {
        AutoCloseable start(Settings settings) throws Exception;
    }

    private ServiceMain() {
    }

    /** Parses the arguments into settings, or throws {@link ConfigException} on a bad argument. */
    public static Settings parse(String[] args) {
        Path file = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if ("--config".equals(a) && i + 1 < args.length) {
                file = Path.of(args[++i]);
            } else if (a.startsWith("--config=")) {
                file = Path.of(a.substring("--config=".length()));
            } else if ("--set".equals(a) && i + 1 < args.length) {
                put(overrides, args[++i]);
            } else if (a.startsWith("--set=")) {
                put(overrides, a.substring("--set=".length()));
            } else {
                throw new ConfigException(a, null, "is not an option (use --config <file> and --set key=value)");
            }
        }
        return Settings.builder()
                .file(file)
                .environment(System.getenv())
                .systemProperties()
                .overrides(overrides)
                .build();
    }

    private static void put(Map<String, String> overrides, String kv) {
        int eq = kv.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException("--set", kv, "must be key=value");
        }
        overrides.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
    }

    /** Runs {@code starter} until the JVM is asked to stop. Never returns normally on error. */
    public static void run(String name, String[] args, Starter starter) {
        JvmDefaults.apply();
        if (args.length > 0 && ("--help".equals(args[0]) || "-h".equals(args[0]))) {
            System.out.println("usage: " + name + " [--config <file.properties>] [--set key=value]...");
            System.out.println("Every key can also come from the environment as LLMQ_<KEY> (dots and dashes as _)");
            System.out.println("or from -Dllmq.<key>=value. Keys and defaults: docs/configuration.md");
            return;
        }
        AutoCloseable service;
        try {
            service = starter.start(parse(args));
        } catch (ConfigException e) {
            System.err.println(name + ": " + e.getMessage());
            System.exit(2);
            return;
        } catch (Exception e) {
            LOG.error("{} failed to start", name, e);
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("{} stopping", name);
            try {
                service.close();
            } catch (Exception e) {
                LOG.warn("{} did not stop cleanly", name, e);
            } finally {
                stopped.countDown();
            }
        }, name + "-shutdown"));
        LOG.info("{} started", name);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
