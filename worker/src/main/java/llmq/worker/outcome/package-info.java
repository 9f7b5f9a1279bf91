/** Publishing results, usage, events and dead letters. */
package llmq.worker.outcome;
