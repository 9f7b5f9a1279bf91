/** The harness's arithmetic: latency percentiles per window, Jain's fairness index, service gaps. */
package llmq.bench.stats;
