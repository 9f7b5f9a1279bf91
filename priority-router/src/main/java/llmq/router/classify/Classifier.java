package llmq.router.classify;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import llmq.avro.ChatMessage;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.Tenant;
import llmq.router.RouterConfig.ClassifyRules;
import llmq.router.schedule.CostEstimator;

/**
 * Decides the level of a request from the public topic: an explicit priority the tenant may use,
 * else keyword rules, else the size rule, else the tenant's default, else the global default —
 * never above the tenant's maximum. A pure function of the request, the tenant row and the rules.
 */
public final class Classifier {

    private final ClassifyRules rules;

    public Classifier(ClassifyRules rules) {
        this.rules = rules;
    }

    /** The level; {@code tenant} may be null (unknown tenant, when allowed). */
    public Priority classify(LlmRequest r, Tenant tenant) {
        Priority max = tenant != null ? tenant.getMaxPriority() : Priority.REALTIME;
        Priority asked = r.getPriority();
        if (asked != null && allowed(asked, max)) {
            return asked;
        }
        Priority byRule = rules(r);
        if (byRule == null) {
            byRule = tenant != null ? tenant.getDefaultPriority() : rules.defaultPriority();
        }
        return allowed(byRule, max) ? byRule : max;
    }

    private Priority rules(LlmRequest r) {
        String text = lastUserMessage(r.getMessages());
        if (text != null && !rules.keywords().isEmpty()) {
            String lower = text.toLowerCase(Locale.ROOT);
            for (Priority p : Priority.values()) {
                for (String word : rules.keywords().getOrDefault(p, List.of())) {
                    if (lower.contains(word)) {
                        return p;
                    }
                }
            }
        }
        if (CostEstimator.promptTokens(r) >= rules.largePromptTokens()) {
            return rules.largePromptPriority();
        }
        return null;
    }

    private static boolean allowed(Priority p, Priority max) {
        return p.ordinal() >= max.ordinal();
    }

    private static String lastUserMessage(List<ChatMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if ("user".equals(messages.get(i).getRole())) {
                return messages.get(i).getContent();
            }
        }
        return null;
    }

    /** The keyword lists, for diagnostics. */
    public Map<Priority, List<String>> keywords() {
        return rules.keywords();
    }
}
