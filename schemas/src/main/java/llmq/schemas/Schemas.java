package llmq.schemas;

import java.util.List;
import llmq.avro.ApiKey;
import llmq.avro.Batch;
import llmq.avro.BillingRecord;
import llmq.avro.CallbackDelivery;
import llmq.avro.DeadLetter;
import llmq.avro.LlmRequest;
import llmq.avro.LlmResult;
import llmq.avro.ModelPrice;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.avro.Tenant;
import llmq.avro.TenantBudget;
import llmq.avro.UsageEvent;
import llmq.avro.router.RouterEntry;
import org.apache.avro.specific.SpecificRecord;

/** The top-level record types that travel on llmq's topics. */
public final class Schemas {

    /** Every top-level value type, in a stable order. */
    public static final List<Class<? extends SpecificRecord>> TOP_LEVEL = List.of(
            LlmRequest.class, QueuedRequest.class, RequestEvent.class, LlmResult.class,
            UsageEvent.class, BillingRecord.class, DeadLetter.class,
            ModelPrice.class, Tenant.class, ApiKey.class, TenantBudget.class,
            RouterEntry.class, Batch.class, CallbackDelivery.class);

    private Schemas() {
    }
}
