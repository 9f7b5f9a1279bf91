/** Consuming the worker queues and committing only what is finished. */
package llmq.worker.consume;
