/** Parking, aging, tenant fairness and release: the scheduler. */
package llmq.router.schedule;
