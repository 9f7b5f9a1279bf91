/** The llmq admin command line. */
package llmq.cli;
