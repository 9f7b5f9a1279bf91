/** The pure functions that decide the simulator's token counts and output text, shared with tests and benchmarks. */
package llmq.modelsim.tokens;
