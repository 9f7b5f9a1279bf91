package llmq.cli;

import java.io.PrintWriter;
import llmq.topics.replay.Replayer;

/**
 * Replay progress: a bar with rate and ETA redrawn in place on a terminal, plain lines every
 * few seconds otherwise (logs, pipes).
 */
final class ProgressBar implements Replayer.Progress {

    private final PrintWriter out;
    private final boolean terminal;
    private long lastPrint;

    ProgressBar(PrintWriter out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    @Override
    public void update(long done, long total, long published, double perSecond) {
        long now = System.nanoTime();
        if (now - lastPrint < (terminal ? 200_000_000L : 5_000_000_000L) && done < total) {
            return;
        }
        lastPrint = now;
        double fraction = total == 0 ? 1 : Math.min(1, done / (double) total);
        String eta = perSecond > 0 ? seconds((long) ((total - done) / perSecond)) : "--:--";
        if (terminal) {
            int width = 30;
            int filled = (int) Math.round(fraction * width);
            out.printf("\r[%s%s] %3.0f%% %d/%d  %,.0f rec/s  ETA %s ", "#".repeat(filled), ".".repeat(width - filled),
                    fraction * 100, done, total, perSecond, eta);
        } else {
            out.printf("replay: %d/%d records read (%.0f%%), %d published, %,.0f rec/s, ETA %s%n", done, total,
                    fraction * 100, published, perSecond, eta);
        }
        out.flush();
    }

    void finish() {
        if (terminal) {
            out.println();
        }
    }

    private static String seconds(long s) {
        return String.format("%02d:%02d", s / 60, s % 60);
    }
}
