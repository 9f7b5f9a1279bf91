package llmq.ingest.submit;

/** One problem with a request body: the JSON path of the field and what is wrong with it. */
public record FieldError(String field, String message) {
}
