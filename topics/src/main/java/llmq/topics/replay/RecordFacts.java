package llmq.topics.replay;

import java.util.Locale;
import llmq.avro.BillingRecord;
import llmq.avro.DeadLetter;
import llmq.avro.LlmRequest;
import llmq.avro.LlmResult;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.avro.UsageEvent;
import llmq.topics.catalog.TopicCatalog;

/**
 * What filters and dry-run counts look at in any llmq record: tenant, model, priority, and a
 * status (result status, event type, or a dead letter's error class). Null where a record has
 * no such thing.
 */
public record RecordFacts(String tenant, String model, String priority, String status) {

    /** Facts of a decoded value of any catalog type. */
    public static RecordFacts of(Object v) {
        if (v instanceof LlmRequest r) {
            return new RecordFacts(r.getTenantId(), r.getModel(), level(r.getPriority()), null);
        }
        if (v instanceof QueuedRequest q) {
            return new RecordFacts(q.getRequest().getTenantId(), q.getRequest().getModel(), level(q.getPriority()), null);
        }
        if (v instanceof LlmResult r) {
            return new RecordFacts(r.getTenantId(), r.getModel(), level(r.getPriority()), lower(r.getStatus().name()));
        }
        if (v instanceof RequestEvent e) {
            return new RecordFacts(e.getTenantId(), null, level(e.getPriority()), lower(e.getType().name()));
        }
        if (v instanceof UsageEvent u) {
            return new RecordFacts(u.getTenantId(), u.getModel(), level(u.getPriority()), null);
        }
        if (v instanceof BillingRecord b) {
            return new RecordFacts(b.getUsage().getTenantId(), b.getUsage().getModel(), level(b.getUsage().getPriority()),
                    b.getUnpriced() ? "unpriced" : "priced");
        }
        if (v instanceof DeadLetter d) {
            return new RecordFacts(d.getTenantId(), d.getRequest() == null ? null : d.getRequest().getModel(),
                    level(d.getPriority()), d.getErrorClass());
        }
        return new RecordFacts(null, null, null, null);
    }

    private static String level(llmq.avro.Priority p) {
        return p == null ? null : TopicCatalog.level(p);
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
