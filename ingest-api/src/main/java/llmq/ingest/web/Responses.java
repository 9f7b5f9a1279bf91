package llmq.ingest.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import java.util.List;
import java.util.Map;
import llmq.common.json.Json;
import llmq.ingest.api.ErrorBody;
import llmq.ingest.batches.InvalidBatchLineException;
import llmq.ingest.openai.OpenAiErrors;
import llmq.ingest.submit.ApiException;
import llmq.ingest.submit.FieldError;
import llmq.ingest.submit.InvalidRequestException;

/**
 * JSON responses written with llmq's one Jackson configuration, and the error bodies: the native
 * shape ({@link ErrorBody}) everywhere except under the OpenAI-compatible paths
 * ({@code /v1/chat/completions}, {@code /v1/models}), which answer in OpenAI's shape.
 */
final class Responses {

    private Responses() {
    }

    static MutableHttpResponse<String> json(int status, Object body) {
        try {
            return HttpResponse.<String>status(HttpStatus.valueOf(status))
                    .contentType(MediaType.APPLICATION_JSON_TYPE)
                    .body(Json.mapper().writeValueAsString(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render response", e);
        }
    }

    /** Adds headers (rate limits) to a response. */
    static <T> MutableHttpResponse<T> headers(MutableHttpResponse<T> r, Map<String, String> headers) {
        headers.forEach(r::header);
        return r;
    }

    /** True for paths that answer in OpenAI's formats. */
    static boolean openAi(HttpRequest<?> request) {
        String p = request == null ? "" : request.getPath();
        return p.startsWith("/v1/chat/") || p.equals("/v1/models") || p.startsWith("/v1/models/");
    }

    static MutableHttpResponse<String> error(HttpRequest<?> request, ApiException e) {
        MutableHttpResponse<String> r = openAi(request)
                ? json(e.status(), OpenAiErrors.body(e.status(), e.getMessage(), e.field(), e.type()))
                : json(e.status(), ErrorBody.of(e.type(), e.getMessage(), e.field(), null));
        if (e.retryAfterSeconds() > 0) {
            r.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
        }
        if (e.status() == 401) {
            r.header("WWW-Authenticate", "Bearer");
        }
        return headers(r, e.headers());
    }

    static MutableHttpResponse<String> error(HttpRequest<?> request, InvalidRequestException e) {
        FieldError first = e.errors().get(0);
        return openAi(request)
                ? json(400, OpenAiErrors.body(400, e.getMessage(), first.field(), "invalid_request"))
                : json(400, ErrorBody.of("invalid_request", e.getMessage(), first.field(), e.errors()));
    }

    static MutableHttpResponse<String> error(HttpRequest<?> request, InvalidBatchLineException e) {
        List<FieldError> errors = e.errors();
        return json(400, ErrorBody.of("invalid_request", e.getMessage(), errors.get(0).field(), e.line(), errors));
    }

    /** An error of status {@code status} from anything else (Micronaut's own: unknown route, bad method, ...). */
    static MutableHttpResponse<String> error(HttpRequest<?> request, int status, String type, String message) {
        return openAi(request) ? json(status, OpenAiErrors.body(status, message, null, type))
                : json(status, ErrorBody.of(type, message, null, null));
    }
}
