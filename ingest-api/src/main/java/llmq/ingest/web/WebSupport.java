package llmq.ingest.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.util.stream.Collectors;
import llmq.common.json.Json;
import llmq.ingest.IngestConfig;
import llmq.ingest.submit.ApiException;
import llmq.ingest.submit.SubmitRequest;
import llmq.ingest.tenants.Authenticator;
import llmq.ingest.tenants.Caller;

/** What every controller does the same way: authenticate, read a JSON body within its limit, build URLs. */
@Singleton
final class WebSupport {

    private static final ObjectReader READER = Json.mapper().reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Authenticator auth;
    private final IngestConfig config;

    WebSupport(Authenticator auth, IngestConfig config) {
        this.auth = auth;
        this.config = config;
    }

    /** The authenticated caller (401 otherwise), recorded for the access log. */
    Caller caller(HttpRequest<?> request, String authorization) {
        Caller c = auth.caller(authorization);
        request.setAttribute(AccessLog.TENANT, c.tenantId());
        return c;
    }

    int maxBody() {
        return config.maxBody();
    }

    /** The body as JSON: 400 when empty or malformed, 413 over {@code max} bytes. */
    JsonNode json(byte[] body, int max) {
        if (body == null || body.length == 0) {
            throw new ApiException(400, "invalid_request", "body", "request body is empty; expected a JSON object");
        }
        tooLarge(body, max);
        try {
            return READER.readTree(body);
        } catch (JsonProcessingException e) {
            throw new ApiException(400, "invalid_json", "body", "body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ApiException(400, "invalid_json", "body", "body could not be read as JSON text");
        }
    }

    /** 413 when {@code body} exceeds {@code max} bytes. */
    static void tooLarge(byte[] body, int max) {
        if (body != null && body.length > max) {
            throw new ApiException(413, "request_too_large", "body", "request body of " + body.length
                    + " bytes is larger than the limit of " + max + " bytes");
        }
    }

    /** Records the prompt for the access log, only when {@code ingest.log-prompts} is on. */
    void prompt(HttpRequest<?> request, SubmitRequest req) {
        if (config.logPrompts()) {
            request.setAttribute(AccessLog.PROMPT, req.messages().stream().map(m -> m.role() + ": " + m.content())
                    .collect(Collectors.joining("\n")));
        }
    }

    /** {@code ingest.public-url}, else from the {@code Host} header. */
    String baseUrl(HttpRequest<?> request) {
        if (config.publicUrl() != null) {
            return config.publicUrl().replaceAll("/+$", "");
        }
        String host = request.getHeaders().get(HttpHeaders.HOST);
        if (host == null || !host.matches("[A-Za-z0-9.\\-\\[\\]:]{1,255}")) {
            host = config.host() + ":" + config.port();
        }
        return "http://" + host;
    }
}
