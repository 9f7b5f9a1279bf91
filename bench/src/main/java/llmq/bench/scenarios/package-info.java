/** One class per benchmark scenario of issue 8, plus the worker's own benchmark. */
package llmq.bench.scenarios;
