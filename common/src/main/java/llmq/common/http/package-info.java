/** The admin HTTP endpoint (health, metrics, extra read-only routes) of the plain services. */
package llmq.common.http;
