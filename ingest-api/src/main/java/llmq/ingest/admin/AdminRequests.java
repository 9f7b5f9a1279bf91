package llmq.ingest.admin;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import llmq.ingest.submit.FieldError;
import llmq.ingest.submit.InvalidRequestException;

/**
 * Validates the JSON bodies of the admin API and turns them into rows: a new tenant (with its tier's
 * presets for what it leaves out), a change to a tenant (only the fields given; {@code null} clears a
 * limit or budget), a new price.
 */
public final class AdminRequests {

    static final List<String> LEVELS = List.of("realtime", "high", "normal", "low");
    private static final Set<String> TENANT_FIELDS = Set.of("id", "name", "tier", "default_priority", "max_priority",
            "weight", "rpm_limit", "tpm_limit", "monthly_budget");
    private static final Set<String> PRICE_FIELDS = Set.of("model", "currency", "input_per_million", "output_per_million",
            "cached_input_per_million", "effective_from");

    private final TierPresets tiers;

    public AdminRequests(TierPresets tiers) {
        this.tiers = tiers;
    }

    public AdminStore.TenantRow newTenant(JsonNode body) {
        List<FieldError> errors = new ArrayList<>();
        object(body, TENANT_FIELDS, errors);
        String id = text(body, "id", 64, true, errors);
        if (id != null && !id.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            errors.add(new FieldError("id", "must be letters, digits, '.', '_' or '-', starting with a letter or digit"));
        }
        String tier = text(body, "tier", 64, false, errors);
        TierPresets.Tier preset = tier == null ? tiers.tiers().get("standard") : tiers.tiers().get(tier);
        if (tier != null && preset == null) {
            errors.add(new FieldError("tier", "must be one of " + String.join(", ", tiers.tiers().keySet())));
            preset = new TierPresets.Tier("normal", "high", null, null);
        }
        String name = text(body, "name", 200, false, errors);
        String def = body.has("default_priority") ? level(body, "default_priority", errors) : preset.defaultPriority();
        String max = body.has("max_priority") ? level(body, "max_priority", errors) : preset.maxPriority();
        BigDecimal weight = body.has("weight") ? decimal(body, "weight", false, errors) : BigDecimal.ONE;
        Integer rpm = body.has("rpm_limit") ? limit(body, "rpm_limit", errors) : preset.rpm();
        Integer tpm = body.has("tpm_limit") ? limit(body, "tpm_limit", errors) : preset.tpm();
        BigDecimal budget = body.has("monthly_budget") ? decimal(body, "monthly_budget", true, errors) : null;
        AdminStore.TenantRow row = new AdminStore.TenantRow(id, name == null ? id : name,
                tier == null ? "standard" : tier, def, max, weight, rpm, tpm, budget, null, null);
        check(row, errors);
        return row;
    }

    /** {@code existing} with the fields of {@code body} applied. */
    public AdminStore.TenantRow change(AdminStore.TenantRow existing, JsonNode body) {
        List<FieldError> errors = new ArrayList<>();
        object(body, TENANT_FIELDS, errors);
        if (body.has("id") && !body.get("id").asText().equals(existing.id())) {
            errors.add(new FieldError("id", "cannot be changed"));
        }
        String name = body.has("name") ? text(body, "name", 200, true, errors) : existing.name();
        String tier = body.has("tier") ? text(body, "tier", 64, true, errors) : existing.tier();
        if (body.has("tier") && tier != null && !tiers.tiers().containsKey(tier)) {
            errors.add(new FieldError("tier", "must be one of " + String.join(", ", tiers.tiers().keySet())));
        }
        String def = body.has("default_priority") ? level(body, "default_priority", errors) : existing.defaultPriority();
        String max = body.has("max_priority") ? level(body, "max_priority", errors) : existing.maxPriority();
        BigDecimal weight = body.has("weight") ? decimal(body, "weight", false, errors) : existing.weight();
        Integer rpm = body.has("rpm_limit") ? limit(body, "rpm_limit", errors) : existing.rpmLimit();
        Integer tpm = body.has("tpm_limit") ? limit(body, "tpm_limit", errors) : existing.tpmLimit();
        BigDecimal budget = body.has("monthly_budget") ? decimal(body, "monthly_budget", true, errors) : existing.monthlyBudget();
        AdminStore.TenantRow row = new AdminStore.TenantRow(existing.id(), name, tier, def, max, weight, rpm, tpm, budget,
                existing.createdAt(), existing.updatedAt());
        check(row, errors);
        return row;
    }

    public AdminStore.PriceRow newPrice(JsonNode body) {
        List<FieldError> errors = new ArrayList<>();
        object(body, PRICE_FIELDS, errors);
        String model = text(body, "model", 200, true, errors);
        String currency = body.has("currency") ? text(body, "currency", 3, true, errors) : "USD";
        if (currency != null && !currency.matches("[A-Z]{3}")) {
            errors.add(new FieldError("currency", "must be a three-letter ISO 4217 code"));
        }
        BigDecimal in = price(body, "input_per_million", true, errors);
        BigDecimal out = price(body, "output_per_million", true, errors);
        BigDecimal cached = price(body, "cached_input_per_million", false, errors);
        Instant from = Instant.EPOCH;
        if (body.hasNonNull("effective_from")) {
            try {
                from = Instant.parse(body.get("effective_from").asText());
            } catch (DateTimeException e) {
                errors.add(new FieldError("effective_from", "must be an ISO-8601 instant"));
            }
        }
        if (!errors.isEmpty()) {
            throw new InvalidRequestException(errors);
        }
        return new AdminStore.PriceRow(0, model, currency, in, out, cached, from);
    }

    private static void check(AdminStore.TenantRow row, List<FieldError> errors) {
        if (row.defaultPriority() != null && row.maxPriority() != null
                && LEVELS.indexOf(row.defaultPriority()) < LEVELS.indexOf(row.maxPriority())) {
            errors.add(new FieldError("default_priority", "must not be above max_priority"));
        }
        if (!errors.isEmpty()) {
            throw new InvalidRequestException(errors);
        }
    }

    private static void object(JsonNode body, Set<String> fields, List<FieldError> errors) {
        if (body == null || !body.isObject()) {
            throw new InvalidRequestException("body", "must be a JSON object");
        }
        for (Iterator<String> it = body.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!fields.contains(f)) {
                errors.add(new FieldError(f, "is not a known field"));
            }
        }
    }

    private static String text(JsonNode body, String field, int max, boolean required, List<FieldError> errors) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                errors.add(new FieldError(field, "is required"));
            }
            return null;
        }
        if (!n.isTextual() || n.asText().isBlank() || n.asText().length() > max) {
            errors.add(new FieldError(field, "must be a non-blank string of at most " + max + " characters"));
            return null;
        }
        return n.asText();
    }

    private static String level(JsonNode body, String field, List<FieldError> errors) {
        JsonNode n = body.get(field);
        if (n == null || !n.isTextual() || !LEVELS.contains(n.asText())) {
            errors.add(new FieldError(field, "must be one of realtime, high, normal, low"));
            return null;
        }
        return n.asText();
    }

    private static Integer limit(JsonNode body, String field, List<FieldError> errors) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 1) {
            errors.add(new FieldError(field, "must be a positive integer, or null for no limit"));
            return null;
        }
        return n.asInt();
    }

    private static BigDecimal decimal(JsonNode body, String field, boolean nullable, List<FieldError> errors) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            if (!nullable) {
                errors.add(new FieldError(field, "must be a positive number"));
            }
            return null;
        }
        try {
            BigDecimal v = n.isNumber() ? n.decimalValue() : n.isTextual() ? new BigDecimal(n.asText()) : null;
            if (v == null || v.signum() < 0 || (!nullable && v.signum() == 0) || v.precision() - v.scale() > 12 || v.scale() > 6) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            errors.add(new FieldError(field, "must be a " + (nullable ? "non-negative" : "positive")
                    + " number with at most 12 integer and 6 decimal digits"));
            return null;
        }
    }

    private static BigDecimal price(JsonNode body, String field, boolean required, List<FieldError> errors) {
        if (!body.hasNonNull(field)) {
            if (required) {
                errors.add(new FieldError(field, "is required"));
            }
            return null;
        }
        return decimal(body, field, true, errors);
    }
}
