/** The standalone launcher: everything in one process, and the llmq command. */
package llmq.standalone;
