/** Injectable failures (429, 5xx, never-answered calls), changeable while the simulator runs. */
package llmq.modelsim.faults;
