package llmq.ingest.web;

import io.micronaut.context.annotation.Primary;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.exceptions.ContentLengthExceededException;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import jakarta.inject.Singleton;
import java.util.concurrent.CompletionException;
import llmq.ingest.batches.InvalidBatchLineException;
import llmq.ingest.status.StatusService;
import llmq.ingest.submit.ApiException;
import llmq.ingest.submit.InvalidRequestException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps llmq's exceptions (thrown directly or completing a future) and Micronaut's own errors
 * (unknown route, wrong method, body too large, malformed request) to llmq's error bodies — the
 * native shape, or OpenAI's under the OpenAI-compatible paths. Anything unexpected is a 500 and is
 * logged with its stack trace: it is a bug.
 */
final class ErrorHandlers {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorHandlers.class);

    private ErrorHandlers() {
    }

    /** 4xx/5xx with type, message and field. */
    @Produces
    @Singleton
    @Requires(classes = {ApiException.class, ExceptionHandler.class})
    static final class Api implements ExceptionHandler<ApiException, HttpResponse<String>> {
        @Override
        public HttpResponse<String> handle(HttpRequest request, ApiException e) {
            return Responses.error(request, e);
        }
    }

    /** 400 naming every field at fault. */
    @Produces
    @Singleton
    @Requires(classes = {InvalidRequestException.class, ExceptionHandler.class})
    static final class Invalid implements ExceptionHandler<InvalidRequestException, HttpResponse<String>> {
        @Override
        public HttpResponse<String> handle(HttpRequest request, InvalidRequestException e) {
            return Responses.error(request, e);
        }
    }

    /** 400 naming the line of a batch and its fields. */
    @Produces
    @Singleton
    @Requires(classes = {InvalidBatchLineException.class, ExceptionHandler.class})
    static final class InvalidLine implements ExceptionHandler<InvalidBatchLineException, HttpResponse<String>> {
        @Override
        public HttpResponse<String> handle(HttpRequest request, InvalidBatchLineException e) {
            return Responses.error(request, e);
        }
    }

    /** 503 while the status stores restore or rebalance, or their owner does not answer. */
    @Produces
    @Singleton
    @Requires(classes = {StatusService.Unavailable.class, ExceptionHandler.class})
    static final class StatusUnavailable implements ExceptionHandler<StatusService.Unavailable, HttpResponse<String>> {
        @Override
        public HttpResponse<String> handle(HttpRequest request, StatusService.Unavailable e) {
            return Responses.error(request, new ApiException(503, "unavailable", null,
                    "request status is not available right now (" + e.getMessage() + "); retry shortly", 1));
        }
    }

    /** 413 for a body over the server's limit. */
    @Produces
    @Singleton
    @Primary
    @Requires(classes = {ContentLengthExceededException.class, ExceptionHandler.class})
    static final class TooLarge implements ExceptionHandler<ContentLengthExceededException, HttpResponse<String>> {
        @Override
        public HttpResponse<String> handle(HttpRequest request, ContentLengthExceededException e) {
            return Responses.error(request, new ApiException(413, "request_too_large", "body", e.getMessage()));
        }
    }

    /** A future that failed with one of ours, wrapped. */
    @Produces
    @Singleton
    @Requires(classes = {CompletionException.class, ExceptionHandler.class})
    static final class Completion implements ExceptionHandler<CompletionException, HttpResponse<String>> {
        @Override
        public HttpResponse<String> handle(HttpRequest request, CompletionException e) {
            Throwable cause = e.getCause();
            while (cause instanceof CompletionException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof ApiException a) {
                return Responses.error(request, a);
            }
            if (cause instanceof InvalidRequestException i) {
                return Responses.error(request, i);
            }
            if (cause instanceof StatusService.Unavailable u) {
                return new StatusUnavailable().handle(request, u);
            }
            if (cause instanceof llmq.ingest.batches.InvalidBatchLineException b) {
                return Responses.error(request, b);
            }
            LOG.error("unexpected failure answering {} {}", request.getMethod(), request.getPath(), e);
            return Responses.error(request, 500, "internal", "internal error");
        }
    }

    /**
     * Micronaut's own error responses (404 unknown route, 405, 415, 400 malformed request, 500 for an
     * unhandled exception) in llmq's shapes.
     */
    @Singleton
    @Primary
    static final class MicronautErrors implements ErrorResponseProcessor<String> {
        @Override
        public MutableHttpResponse<String> processResponse(ErrorContext context, MutableHttpResponse<?> base) {
            int status = base.getStatus().getCode();
            String message = context.getErrors().isEmpty() ? base.getStatus().getReason()
                    : context.getErrors().get(0).getMessage();
            if (status >= 500) {
                LOG.error("unexpected failure answering {} {}", context.getRequest().getMethod(), context.getRequest().getPath(),
                        context.getRootCause().orElse(null));
                message = "internal error";
            }
            String type = switch (status) {
                case 404 -> "not_found";
                case 405 -> "method_not_allowed";
                case 413 -> "request_too_large";
                case 415 -> "unsupported_media_type";
                default -> status >= 500 ? "internal" : "invalid_request";
            };
            MutableHttpResponse<String> r = Responses.error(context.getRequest(), status, type, message);
            base.getHeaders().forEach((name, values) -> {
                if (!name.equalsIgnoreCase("Content-Type") && !name.equalsIgnoreCase("Content-Length")) {
                    values.forEach(v -> r.header(name, v));
                }
            });
            return r;
        }
    }
}
