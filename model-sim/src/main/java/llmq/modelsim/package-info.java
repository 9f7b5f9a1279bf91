/** The OpenAI-compatible model simulator: its configuration, its server and its command-line entry. */
package llmq.modelsim;
