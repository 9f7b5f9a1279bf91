/** Process start-up and shutdown shared by the service mains. */
package llmq.common.lifecycle;
