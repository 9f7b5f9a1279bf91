/** Layered configuration (file, environment, system properties, overrides) and its errors. */
package llmq.common.config;
