/** PNG line plots drawn with java.awt, headless. */
package llmq.bench.plot;
