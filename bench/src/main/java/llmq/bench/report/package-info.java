/** Scenario results as JSON under docs/benchmarks/, the machine they ran on, and the Markdown table rendered from them. */
package llmq.bench.report;
