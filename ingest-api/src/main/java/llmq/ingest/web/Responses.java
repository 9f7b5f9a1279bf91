package llmq.ingest.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import llmq.common.json.Json;
import llmq.ingest.api.ErrorBody;
import llmq.ingest.submit.ApiException;
import llmq.ingest.submit.InvalidRequestException;

/** JSON responses written with llmq's one Jackson configuration. */
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

    static MutableHttpResponse<String> error(ApiException e) {
        MutableHttpResponse<String> r = json(e.status(), ErrorBody.of(e.type(), e.getMessage(), e.field(), null));
        if (e.retryAfterSeconds() > 0) {
            r.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
        }
        if (e.status() == 401) {
            r.header("WWW-Authenticate", "Bearer");
        }
        return r;
    }

    static MutableHttpResponse<String> error(InvalidRequestException e) {
        return json(400, ErrorBody.of("invalid_request", e.getMessage(), e.errors().get(0).field(), e.errors()));
    }
}
