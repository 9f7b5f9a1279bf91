/** The router's metrics and its read-only HTTP view of the backlog. */
package llmq.router.view;
