/** Weighted fair share across priority levels over bounded per-level buffers. */
package llmq.worker.schedule;
