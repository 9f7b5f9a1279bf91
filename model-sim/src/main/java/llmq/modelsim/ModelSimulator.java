package llmq.modelsim;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import llmq.common.lifecycle.JvmDefaults;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import llmq.modelsim.audit.Audit;
import llmq.modelsim.faults.Faults;
import llmq.modelsim.internal.InFlight;
import llmq.modelsim.internal.Routes;
import llmq.modelsim.tokens.TokenModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running simulated OpenAI-compatible model server, so that the workers, end-to-end tests and
 * benchmarks have a model endpoint whose latency, failures and token counts are controlled and
 * whose every answer is audited.
 *
 * <p>Endpoints: {@code POST /v1/chat/completions} (plain and streamed), {@code GET /v1/models},
 * {@code GET /health}, {@code GET|POST /admin/faults}, {@code GET /audit?since=&limit=},
 * {@code GET /audit/summary} and {@code DELETE /audit}. A delayed answer holds no thread: the
 * handler returns and a scheduler finishes the open exchange, so hundreds of slow calls in
 * flight cost a few threads.
 */
public final class ModelSimulator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelSimulator.class);
    private static final String NAME = "llmq-model-sim";
    /** Connections waiting to be accepted; benchmarks open hundreds at once. */
    private static final int BACKLOG = 1024;
    static {
        // TCP_NODELAY for the JDK server (read once, when the first HttpServer of the JVM is created)
        JvmDefaults.apply();
    }

    private final ModelSimConfig config;
    private final HttpServer http;
    private final ExecutorService httpThreads;
    private final InFlight inFlight;
    private final Audit audit;
    private final Faults faults;
    private final TokenModel tokens;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Captured at start: a stopped server no longer knows its address. */
    private final InetSocketAddress address;

    private ModelSimulator(ModelSimConfig config, HttpServer http, ExecutorService httpThreads, InFlight inFlight,
            Audit audit, Faults faults, TokenModel tokens) {
        this.config = config;
        this.http = http;
        this.httpThreads = httpThreads;
        this.inFlight = inFlight;
        this.audit = audit;
        this.faults = faults;
        this.tokens = tokens;
        this.address = http.getAddress();
    }

    /** Binds and starts a simulator; close it to free the port and every open call. */
    public static ModelSimulator start(ModelSimConfig config) throws IOException {
        TokenModel tokens = new TokenModel(config.completionTokensMin(), config.completionTokensMax());
        Faults faults = new Faults(config.faults(), config.seed());
        Audit audit = new Audit(config.auditFile(), config.auditRetain(), Clock.systemUTC());
        HttpServer http;
        try {
            http = HttpServer.create(new InetSocketAddress(config.host(), config.port()), BACKLOG);
        } catch (IOException e) {
            audit.close();
            throw new IOException("cannot bind the model simulator to " + config.host() + ":" + config.port(), e);
        }
        AtomicInteger n = new AtomicInteger();
        ExecutorService httpThreads = Executors.newFixedThreadPool(config.threads(), r -> {
            Thread t = new Thread(r, NAME + "-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        InFlight inFlight = InFlight.create(NAME, config.schedulerThreads());
        try {
            http.setExecutor(httpThreads);
            Routes.install(http, config, tokens, faults, audit, inFlight, Clock.systemUTC());
            http.start();
        } catch (RuntimeException e) {
            inFlight.close();
            http.stop(0);
            httpThreads.shutdownNow();
            audit.close();
            throw e;
        }
        ModelSimulator sim = new ModelSimulator(config, http, httpThreads, inFlight, audit, faults, tokens);
        LOG.info("model simulator listening on {} ({})", sim.baseUrl(), config);
        return sim;
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return address.getPort();
    }

    /** The OpenAI base URL clients are configured with, e.g. {@code http://127.0.0.1:8090/v1}. */
    public String baseUrl() {
        return rootUrl() + "/v1";
    }

    /** The server root, e.g. {@code http://127.0.0.1:8090}, under which {@code /health} and {@code /audit} live. */
    public String rootUrl() {
        InetAddress ip = address.getAddress();
        if (ip.isAnyLocalAddress()) {
            ip = InetAddress.getLoopbackAddress();
        }
        String host = ip.getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "http://" + host + ":" + port();
    }

    /** Every call answered so far. */
    public Audit audit() {
        return audit;
    }

    /** The live fault settings; changes apply to the next call. */
    public Faults faults() {
        return faults;
    }

    /** The token model answering calls, to predict counts. */
    public TokenModel tokenModel() {
        return tokens;
    }

    public ModelSimConfig config() {
        return config;
    }

    /** Calls accepted and not yet finished (delayed, streaming or hanging). */
    public int inFlight() {
        return inFlight.size();
    }

    /** The most calls that were in flight at once since start. */
    public int peakInFlight() {
        return inFlight.peak();
    }

    /** Stops at once: unanswered and hanging calls have their connections closed. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        inFlight.close();
        http.stop(0);
        httpThreads.shutdownNow();
        try {
            if (!httpThreads.awaitTermination(2, TimeUnit.SECONDS)) {
                LOG.warn("model simulator HTTP threads did not stop within 2 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        audit.close();
        LOG.info("model simulator on port {} stopped", port());
    }
}
