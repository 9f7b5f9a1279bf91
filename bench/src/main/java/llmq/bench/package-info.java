/** The benchmark harness: one entry point that runs each scenario and renders the results table. */
package llmq.bench;
