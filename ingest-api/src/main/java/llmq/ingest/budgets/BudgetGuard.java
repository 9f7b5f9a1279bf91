package llmq.ingest.budgets;

/** Admission by budget: refuses (with an {@link llmq.ingest.submit.ApiException}) a tenant that may not spend more. */
@FunctionalInterface
public interface BudgetGuard {

    /** Returns if {@code tenantId} may submit; throws a 402 {@code budget_exceeded} ApiException if not. */
    void admit(String tenantId);

    /** Admits everyone. */
    BudgetGuard NONE = tenantId -> {
    };
}
