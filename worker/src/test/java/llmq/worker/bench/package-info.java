/** Benchmarks of the worker; run by hand, never by the build. */
package llmq.worker.bench;
