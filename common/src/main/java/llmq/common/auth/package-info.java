/** API key generation and hashing. */
package llmq.common.auth;
