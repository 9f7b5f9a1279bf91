/** Usage queries over HTTP, answered from billing's state stores on whichever instance holds the tenant. */
package llmq.billing.query;
