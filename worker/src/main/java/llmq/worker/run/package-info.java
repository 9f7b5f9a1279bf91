/** Running taken requests: slots, weighted fair dispatch, calls, retries decisions and outcomes. */
package llmq.worker.run;
