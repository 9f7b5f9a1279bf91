/** Change data capture of the config tables (Debezium embedded) into the compacted config topics. */
package llmq.billing.cdc;
