/** Replaying a range of a topic into the stage that should process it again. */
package llmq.topics.replay;
