/** Deduplication of requests by dedup key within a window. */
package llmq.router.dedup;
