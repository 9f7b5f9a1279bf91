package llmq.topics.replay;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import llmq.common.config.Settings;

/**
 * Where a replay starts or ends: {@code earliest}, {@code latest}, an offset (digits), an instant
 * ({@code 2026-11-23T10:00:00Z}), a date ({@code 2026-11-23}, midnight UTC) or a time ago
 * ({@code 2h}, {@code 30m}, {@code 7d}).
 */
public sealed interface Position {

    /** The beginning of each partition. */
    record Earliest() implements Position {
    }

    /** The end of each partition at the time the replay starts. */
    record Latest() implements Position {
    }

    /** The same offset in every selected partition. */
    record Offset(long offset) implements Position {
    }

    /** The first record at or after an instant. */
    record Time(Instant at) implements Position {
    }

    static Position parse(String s, Instant now) {
        String t = s.trim();
        if ("earliest".equalsIgnoreCase(t) || "beginning".equalsIgnoreCase(t)) {
            return new Earliest();
        }
        if ("latest".equalsIgnoreCase(t) || "end".equalsIgnoreCase(t) || "now".equalsIgnoreCase(t)) {
            return new Latest();
        }
        if (t.matches("\\d+")) {
            return new Offset(Long.parseLong(t));
        }
        try {
            return new Time(Instant.parse(t));
        } catch (DateTimeParseException ignored) {
            // not an instant
        }
        try {
            return new Time(LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant());
        } catch (DateTimeParseException ignored) {
            // not a date
        }
        String ago = t.endsWith(" ago") ? t.substring(0, t.length() - 4) : t.startsWith("-") ? t.substring(1) : t;
        try {
            Duration d = Settings.parseDuration(ago);
            return new Time(now.minus(d));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("'" + s + "' is not earliest, latest, an offset, an instant, a date or a duration ago");
        }
    }
}
