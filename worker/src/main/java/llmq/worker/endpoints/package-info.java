/** The model endpoint pool: routing of models to endpoints, load balancing, health, circuit breaking and limits. */
package llmq.worker.endpoints;
