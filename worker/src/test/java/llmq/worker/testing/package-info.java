/** Test helpers shared by the worker's tests. */
package llmq.worker.testing;
