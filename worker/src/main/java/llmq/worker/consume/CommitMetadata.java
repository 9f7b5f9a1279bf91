package llmq.worker.consume;

import java.util.Iterator;
import java.util.NavigableSet;

/**
 * The finished offsets beyond a partition's commit point, written into the commit's metadata
 * ({@code OffsetAndMetadata.metadata()}) so that whoever takes the partition over after a
 * crash or a rebalance skips them instead of running their calls again.
 *
 * <p>Format: {@code llmq1:} followed by comma-separated runs, each {@code gap} or
 * {@code gap.extra} in base 36, where {@code gap} is the distance of the run's first offset
 * from the end of the previous run (the first run counts from the commit point) and
 * {@code extra} is the run's length minus one. Example: point 100 and finished
 * {102, 103, 104, 110} give {@code llmq1:2.2,5}. The text is cut at a size limit (the lowest
 * runs are kept; Kafka refuses metadata above the broker's {@code offset.metadata.max.bytes},
 * 4096 by default); what is cut simply runs again. Anything unreadable decodes to nothing.
 */
public final class CommitMetadata {

    static final String PREFIX = "llmq1:";

    private CommitMetadata() {
    }

    /**
     * @param point    the committed offset
     * @param finished finished offsets (those at or below {@code point} are ignored)
     * @param maxChars the longest text to produce; 0 disables the metadata
     * @return the metadata, or the empty string when there is nothing to record
     */
    public static String encode(long point, NavigableSet<Long> finished, int maxChars) {
        if (maxChars <= PREFIX.length() || finished.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder(PREFIX);
        long prevEnd = point;
        Iterator<Long> it = finished.tailSet(point, false).iterator();
        long runStart = -1;
        long runEnd = -1;
        boolean any = false;
        while (true) {
            Long next = it.hasNext() ? it.next() : null;
            if (next != null && runStart >= 0 && next == runEnd) {
                runEnd++;
                continue;
            }
            if (runStart >= 0) {
                String token = Long.toString(runStart - prevEnd, 36)
                        + (runEnd - runStart > 1 ? "." + Long.toString(runEnd - runStart - 1, 36) : "");
                if (out.length() + (any ? 1 : 0) + token.length() > maxChars) {
                    break;
                }
                if (any) {
                    out.append(',');
                }
                out.append(token);
                any = true;
                prevEnd = runEnd;
            }
            if (next == null) {
                break;
            }
            runStart = next;
            runEnd = next + 1;
        }
        return any ? out.toString() : "";
    }

    /** The finished offsets recorded in {@code metadata} of a commit at {@code point}; empty when none or unreadable. */
    public static OffsetRanges decode(long point, String metadata) {
        OffsetRanges out = new OffsetRanges();
        if (metadata == null || !metadata.startsWith(PREFIX) || metadata.length() == PREFIX.length()) {
            return out;
        }
        OffsetRanges parsed = new OffsetRanges();
        long prevEnd = point;
        try {
            for (String token : metadata.substring(PREFIX.length()).split(",")) {
                int dot = token.indexOf('.');
                long gap = Long.parseLong(dot < 0 ? token : token.substring(0, dot), 36);
                long extra = dot < 0 ? 0 : Long.parseLong(token.substring(dot + 1), 36);
                if (gap < 0 || extra < 0) {
                    return out;
                }
                long start = prevEnd + gap;
                long end = start + extra + 1;
                parsed.add(start, end);
                prevEnd = end;
            }
        } catch (NumberFormatException e) {
            return out;
        }
        return parsed;
    }
}
