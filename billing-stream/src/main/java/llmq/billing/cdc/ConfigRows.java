package llmq.billing.cdc;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import llmq.avro.ApiKey;
import llmq.avro.ModelPrice;
import llmq.avro.Priority;
import llmq.avro.Tenant;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;

/**
 * Debezium's row images (Kafka Connect {@link Struct}s, numerics as exact decimals, timestamps
 * with time zone as ISO-8601 strings) as the Avro records of the config topics. Money keeps its
 * column scale; nothing goes through {@code double} except the tenant weight, which is a double
 * in the contract.
 */
final class ConfigRows {

    private ConfigRows() {
    }

    static ModelPrice price(Struct row) {
        return ModelPrice.newBuilder()
                .setId(row.getInt64("id"))
                .setModel(row.getString("model"))
                .setCurrency(row.getString("currency"))
                .setInputPerMillion(decimal(row, "input_per_million", 6))
                .setOutputPerMillion(decimal(row, "output_per_million", 6))
                .setCachedInputPerMillion(decimal(row, "cached_input_per_million", 6))
                .setEffectiveFrom(instant(row, "effective_from"))
                .build();
    }

    static Tenant tenant(Struct row) {
        BigDecimal weight = decimal(row, "weight", 3);
        return Tenant.newBuilder()
                .setId(row.getString("id"))
                .setName(row.getString("name"))
                .setTier(row.getString("tier"))
                .setDefaultPriority(priority(row.getString("default_priority")))
                .setMaxPriority(priority(row.getString("max_priority")))
                .setWeight(weight == null ? 1.0 : weight.doubleValue())
                .setRpmLimit((Integer) value(row, "rpm_limit"))
                .setTpmLimit((Integer) value(row, "tpm_limit"))
                .setMonthlyBudget(decimal(row, "monthly_budget", 6))
                .setUpdatedAt(instant(row, "updated_at"))
                .build();
    }

    static ApiKey apiKey(Struct row) {
        return ApiKey.newBuilder()
                .setId(row.getString("id"))
                .setTenantId(row.getString("tenant_id"))
                .setKeyHash(row.getString("key_hash"))
                .setName(row.getString("name"))
                .setCreatedAt(instant(row, "created_at"))
                .setRevokedAt(instant(row, "revoked_at"))
                .build();
    }

    private static Object value(Struct row, String field) {
        Field f = row.schema().field(field);
        if (f == null) {
            throw new IllegalArgumentException("column " + field + " missing from the change event of " + row.schema().name());
        }
        return row.get(f);
    }

    private static BigDecimal decimal(Struct row, String field, int scale) {
        Object v = value(row, field);
        if (v == null) {
            return null;
        }
        if (!(v instanceof BigDecimal d)) {
            throw new IllegalArgumentException("column " + field + " is " + v.getClass().getSimpleName()
                    + ", expected an exact decimal (decimal.handling.mode=precise)");
        }
        // never rounds: the columns hold at most this scale
        return d.setScale(scale, RoundingMode.UNNECESSARY);
    }

    private static Instant instant(Struct row, String field) {
        Object v = value(row, field);
        if (v == null) {
            return null;
        }
        if (v instanceof String s) {
            return OffsetDateTime.parse(s, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
        }
        if (v instanceof Long micros) {
            return Instant.EPOCH.plusNanos(micros * 1_000);
        }
        throw new IllegalArgumentException("column " + field + " is " + v.getClass().getSimpleName() + ", expected a timestamp");
    }

    private static Priority priority(String level) {
        return Priority.valueOf(level.toUpperCase(Locale.ROOT));
    }
}
