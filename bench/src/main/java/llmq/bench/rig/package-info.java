/** What scenarios start and observe: Kafka clients, llmq services at the end of the shared topics, the event timeline, child JVMs. */
package llmq.bench.rig;
