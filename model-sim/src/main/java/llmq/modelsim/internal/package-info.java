/** HTTP handlers and the scheduler-driven completion of open exchanges; nothing outside the simulator calls these. */
package llmq.modelsim.internal;
