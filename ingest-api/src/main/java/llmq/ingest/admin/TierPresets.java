package llmq.ingest.admin;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;

/**
 * What a tenant's tier means when the admin API creates a tenant: its default and maximum level and
 * its RPM/TPM limits, unless the request gives them explicitly. Built in: {@code free} (low/normal,
 * 60 RPM, 100 000 TPM), {@code standard} (normal/high, 600 RPM, 1 000 000 TPM) and {@code premium}
 * (normal/realtime, no limits); each value, and new tiers, from
 * {@code ingest.tiers.<tier>.{default-priority,max-priority,rpm,tpm}} ({@code rpm}/{@code tpm} 0 = none).
 * The tier is stored with the tenant; the presets are copied into its columns, so changing a preset
 * later changes no existing tenant.
 */
public record TierPresets(Map<String, Tier> tiers) {

    /** One tier's presets; null limits mean none. */
    public record Tier(String defaultPriority, String maxPriority, Integer rpm, Integer tpm) {
    }

    public TierPresets {
        tiers = Map.copyOf(tiers);
    }

    public static TierPresets from(Settings s) {
        Map<String, Tier> out = new LinkedHashMap<>();
        out.put("free", new Tier("low", "normal", 60, 100_000));
        out.put("standard", new Tier("normal", "high", 600, 1_000_000));
        out.put("premium", new Tier("normal", "realtime", null, null));
        TreeSet<String> names = new TreeSet<>();
        s.withPrefix("ingest.tiers").keySet().forEach(k -> names.add(k.contains(".") ? k.substring(0, k.indexOf('.')) : k));
        for (String name : names) {
            Tier base = out.getOrDefault(name, new Tier("normal", "high", null, null));
            String p = "ingest.tiers." + name + ".";
            out.put(name, new Tier(level(s, p + "default-priority", base.defaultPriority()),
                    level(s, p + "max-priority", base.maxPriority()), limit(s, p + "rpm", base.rpm()), limit(s, p + "tpm", base.tpm())));
        }
        return new TierPresets(out);
    }

    private static String level(Settings s, String key, String def) {
        String v = s.string(key, def).toLowerCase(Locale.ROOT);
        if (!AdminRequests.LEVELS.contains(v)) {
            throw new ConfigException(key, v, "must be one of realtime, high, normal, low");
        }
        return v;
    }

    private static Integer limit(Settings s, String key, Integer def) {
        int v = s.integer(key, def == null ? 0 : def);
        if (v < 0) {
            throw new ConfigException(key, Integer.toString(v), "must be 0 (no limit) or more");
        }
        return v == 0 ? null : v;
    }
}
