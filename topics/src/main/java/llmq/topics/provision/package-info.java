/** Creating the catalog's topics on a broker and reporting drift. */
package llmq.topics.provision;
