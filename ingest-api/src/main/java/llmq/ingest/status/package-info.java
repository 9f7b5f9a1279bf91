/** The request status view: events and results folded into queryable stores. */
package llmq.ingest.status;
