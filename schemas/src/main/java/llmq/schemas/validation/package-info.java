/** The rules every request must meet, wherever it enters. */
package llmq.schemas.validation;
