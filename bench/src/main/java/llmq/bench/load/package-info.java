/** Open-loop load generation over HTTP and straight into Kafka, timed from each request's intended send time. */
package llmq.bench.load;
