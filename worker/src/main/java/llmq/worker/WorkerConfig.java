package llmq.worker;

import java.time.Duration;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;

/**
 * Settings of a worker. Keys and defaults:
 *
 * <ul>
 *   <li>{@code worker.group-id} ({@code llmq-worker}): consumer group shared by all workers.</li>
 *   <li>{@code worker.id} (host name and pid): shown in events and logs.</li>
 *   <li>{@code worker.max-in-flight} ({@code 64}): concurrent model calls of this worker.</li>
 *   <li>{@code worker.endpoint.url} ({@code http://127.0.0.1:8090/v1}): OpenAI-compatible base URL.</li>
 *   <li>{@code worker.endpoint.name} ({@code default}): endpoint name in usage records.</li>
 *   <li>{@code worker.endpoint.api-key} (none): bearer key for the endpoint; never logged.</li>
 *   <li>{@code worker.endpoint.timeout} ({@code 60s}): whole-call timeout.</li>
 *   <li>{@code worker.shutdown-grace} ({@code 30s}): on SIGTERM, how long in-flight calls may finish.</li>
 *   <li>{@code worker.admin.host}/{@code worker.admin.port} ({@code 127.0.0.1}/{@code 8083}): health, metrics.</li>
 * </ul>
 */
public record WorkerConfig(String groupId, String workerId, int maxInFlight, String endpointUrl, String endpointName,
                           String endpointApiKey, Duration endpointTimeout, Duration shutdownGrace,
                           String adminHost, int adminPort) {

    public WorkerConfig {
        if (maxInFlight < 1) {
            throw new ConfigException("worker.max-in-flight", Integer.toString(maxInFlight), "must be at least 1");
        }
        if (!endpointUrl.startsWith("http://") && !endpointUrl.startsWith("https://")) {
            throw new ConfigException("worker.endpoint.url", endpointUrl, "must be an http(s) URL");
        }
    }

    public static WorkerConfig from(Settings s) {
        String defaultId = hostName() + "-" + ProcessHandle.current().pid();
        return new WorkerConfig(
                s.string("worker.group-id", "llmq-worker"),
                s.string("worker.id", defaultId),
                s.integer("worker.max-in-flight", 64),
                s.string("worker.endpoint.url", "http://127.0.0.1:8090/v1"),
                s.string("worker.endpoint.name", "default"),
                s.string("worker.endpoint.api-key", null),
                s.duration("worker.endpoint.timeout", Duration.ofSeconds(60)),
                s.duration("worker.shutdown-grace", Duration.ofSeconds(30)),
                s.string("worker.admin.host", "127.0.0.1"),
                s.integer("worker.admin.port", 8083));
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "worker";
        }
    }

    @Override
    public String toString() {
        return "WorkerConfig[group=" + groupId + ", id=" + workerId + ", maxInFlight=" + maxInFlight
                + ", endpoint=" + endpointUrl + "]";
    }
}
