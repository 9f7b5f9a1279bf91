/** HTTP controllers: translation between HTTP and the plain classes. */
package llmq.ingest.web;
