package llmq.bench;

import llmq.bench.report.Result;

/** One benchmark scenario: starts what it needs, measures, stops everything it started, and fills in its result. */
public interface Scenario {

    /** File and command-line name, e.g. {@code priority-isolation}. */
    String name();

    /** Its number in issue 8 ("1".."8"; "W" for the worker's own benchmark). */
    String number();

    /** A short title for the table. */
    String title();

    /** Runs it; figures, ratios, details and notes go into {@code result}. */
    void run(RunContext ctx, Result result) throws Exception;
}
