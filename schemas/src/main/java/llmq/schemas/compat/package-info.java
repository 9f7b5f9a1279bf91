/** Schema-evolution (compatibility) rules. */
package llmq.schemas.compat;
