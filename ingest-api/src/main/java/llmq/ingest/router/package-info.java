/** The priority-router's admin view as ingest-api asks it (positions, backlog). */
package llmq.ingest.router;
