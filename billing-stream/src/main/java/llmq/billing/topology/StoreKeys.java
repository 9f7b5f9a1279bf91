package llmq.billing.topology;

import java.time.Instant;

/**
 * Key encodings of billing's stores and of the aggregates topic. Parts are joined with the ASCII
 * unit separator ({@value #SEP_CHAR_CODE}), which sorts below every printable character, so that
 * all keys of one tenant form one contiguous range ({@link #tenantFrom}..{@link #tenantTo}) in
 * the byte-ordered stores and can be read with one range query.
 */
public final class StoreKeys {

    /** Code of the separator character (ASCII "unit separator"). */
    public static final int SEP_CHAR_CODE = 0x1f;
    static final char SEP = (char) SEP_CHAR_CODE;
    private static final char AFTER_SEP = (char) (SEP_CHAR_CODE + 1);

    private StoreKeys() {
    }

    /** Hourly store key: tenant, model, currency. */
    public static String hourly(String tenant, String model, String currency) {
        return tenant + SEP + model + SEP + currency;
    }

    /** Daily store key: tenant, currency. */
    public static String daily(String tenant, String currency) {
        return tenant + SEP + currency;
    }

    /** Smallest key of {@code tenant} in the hourly and daily stores. */
    public static String tenantFrom(String tenant) {
        return tenant + SEP;
    }

    /** A key above every key of {@code tenant} and below the next tenant's. */
    public static String tenantTo(String tenant) {
        return tenant + AFTER_SEP;
    }

    /** The parts of a store key: [tenant, model, currency] or [tenant, currency]. */
    public static String[] split(String key) {
        return key.split(String.valueOf(SEP), -1);
    }

    /** Key of an aggregate on the aggregates topic: granularity, store key and period start. */
    public static String aggregate(String granularity, String storeKey, Instant periodStart) {
        return granularity + SEP + storeKey + SEP + periodStart.toEpochMilli();
    }

    /** A millisecond timestamp as 20 digits that sort like the numbers, negative ones included. */
    public static String sortable(long millis) {
        String digits = Long.toUnsignedString(millis ^ Long.MIN_VALUE);
        return "0".repeat(20 - digits.length()) + digits;
    }
}
