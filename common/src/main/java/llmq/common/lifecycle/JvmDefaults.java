package llmq.common.lifecycle;

/**
 * JVM settings every llmq process needs, applied at the top of each {@code main} before any
 * library reads them (an explicit {@code -D} always wins):
 *
 * <ul>
 *   <li>{@code java.util.concurrent.ForkJoinPool.common.parallelism} at least 2: on a 2-CPU
 *       machine the common pool has parallelism 1 and the JDK HTTP client, which completes
 *       responses there, then starts a thread per response (about 21 000 threads in the worker
 *       benchmark);</li>
 *   <li>{@code sun.net.httpserver.nodelay=true}: without TCP_NODELAY the JDK HTTP server adds
 *       ~40 ms to every keep-alive answer.</li>
 * </ul>
 */
public final class JvmDefaults {

    static final String COMMON_POOL_PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

    private JvmDefaults() {
    }

    public static void apply() {
        if (System.getProperty(COMMON_POOL_PARALLELISM) == null && Runtime.getRuntime().availableProcessors() <= 2) {
            System.setProperty(COMMON_POOL_PARALLELISM, "2");
        }
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }
}
