package llmq.ingest.web;

import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;
import llmq.ingest.status.StatusView;
import llmq.ingest.submit.ApiException;
import llmq.ingest.submit.InvalidRequestException;

/** Maps llmq's API exceptions (thrown directly or completing a future) to JSON error responses. */
final class ErrorHandlers {

    private ErrorHandlers() {
    }

    /** 4xx/5xx with type, message and field. */
    @Produces
    @Singleton
    @Requires(classes = {ApiException.class, ExceptionHandler.class})
    static final class Api implements ExceptionHandler<ApiException, HttpResponse<String>> {
        @Override
        public HttpResponse<String> handle(HttpRequest request, ApiException e) {
            return Responses.error(e);
        }
    }

    /** 400 naming every field at fault. */
    @Produces
    @Singleton
    @Requires(classes = {InvalidRequestException.class, ExceptionHandler.class})
    static final class Invalid implements ExceptionHandler<InvalidRequestException, HttpResponse<String>> {
        @Override
        public HttpResponse<String> handle(HttpRequest request, InvalidRequestException e) {
            return Responses.error(e);
        }
    }

    /** 503 while the status stores restore. */
    @Produces
    @Singleton
    @Requires(classes = {StatusView.Unavailable.class, ExceptionHandler.class})
    static final class StatusUnavailable implements ExceptionHandler<StatusView.Unavailable, HttpResponse<String>> {
        @Override
        public HttpResponse<String> handle(HttpRequest request, StatusView.Unavailable e) {
            return Responses.error(new ApiException(503, "unavailable", null,
                    "request status is being restored; retry shortly", 1));
        }
    }
}
