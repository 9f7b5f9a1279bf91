package llmq.ingest.batches;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import llmq.avro.Batch;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.common.json.Json;
import llmq.ingest.budgets.BudgetGuard;
import llmq.ingest.status.StatusFold;
import llmq.ingest.status.StatusService;
import llmq.ingest.submit.ApiException;
import llmq.ingest.submit.Intake;
import llmq.ingest.submit.InvalidRequestException;
import llmq.ingest.tenants.Caller;

/**
 * The batch API over its parts: a JSONL body is parsed and every line admitted (model, level) before
 * anything is written, then the batch goes to Kafka in one transaction ({@link BatchSubmitter});
 * progress and results are read from the status view's batch index, gathered from every ingest
 * instance. Batches are not counted against the per-request rate limits; budgets apply.
 */
public final class Batches {

    /** Progress of a batch. */
    public record Progress(Batch batch, int known, int done, Map<String, Integer> counts) {
        public String status() {
            return done >= batch.getTotal() ? "completed" : "in_progress";
        }
    }

    private final BatchParser parser;
    private final Intake intake;
    private final BudgetGuard budgets;
    private final BatchSubmitter submitter;
    private final StatusService status;

    public Batches(BatchParser parser, Intake intake, BudgetGuard budgets, BatchSubmitter submitter, StatusService status) {
        this.parser = parser;
        this.intake = intake;
        this.budgets = budgets;
        this.submitter = submitter;
        this.status = status;
    }

    /** Validates every line, then writes the batch; {@code level} is the level of lines that name none. */
    public BatchSubmitter.Written submit(Caller caller, byte[] body, Priority level, Map<String, String> metadata) {
        List<BatchParser.Line> lines = parser.parse(body);
        List<BatchSubmitter.Item> items = new ArrayList<>(lines.size());
        for (BatchParser.Line line : lines) {
            var req = line.request().priority() == null && level != null ? line.request().withPriority(level) : line.request();
            try {
                items.add(new BatchSubmitter.Item(intake.validate(caller, req), req));
            } catch (InvalidRequestException e) {
                throw new InvalidBatchLineException(line.number(), e.errors());
            } catch (ApiException e) {
                throw new ApiException(e.status(), e.type(), e.field(), "line " + line.number() + ": " + e.getMessage());
            }
        }
        budgets.admit(caller.tenantId());
        return submitter.submit(caller.tenant(), items, metadata);
    }

    /** The batch if it is the caller's (404 otherwise, also for another tenant's). */
    public Batch batch(Caller caller, String batchId) {
        return status.batch(batchId).filter(b -> b.getTenantId().equals(caller.tenantId()))
                .orElseThrow(() -> ApiException.notFound("batch", batchId));
    }

    public Progress progress(Caller caller, String batchId) {
        Batch b = batch(caller, batchId);
        List<StatusService.Member> members = status.members(caller, batchId);
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String s : List.of(StatusFold.QUEUED, StatusFold.PARKED, StatusFold.RUNNING, StatusFold.RETRYING,
                StatusFold.COMPLETED, StatusFold.FAILED, StatusFold.EXPIRED, StatusFold.CANCELLED, StatusFold.DEDUPLICATED)) {
            counts.put(s, 0);
        }
        int done = 0;
        for (StatusService.Member m : members) {
            counts.merge(m.member().getState(), 1, Integer::sum);
            if (m.member().getDone()) {
                done++;
            }
        }
        int known = members.size();
        // requests whose ACCEPTED event the status view has not folded yet are queued
        counts.merge(StatusFold.QUEUED, Math.max(0, b.getTotal() - known), Integer::sum);
        return new Progress(b, known, done, counts);
    }

    /** One JSON object per request known so far, by custom_id: its status, and output or error once done. */
    public List<ObjectNode> results(Caller caller, String batchId) {
        batch(caller, batchId);
        List<StatusService.Member> members = new ArrayList<>(status.members(caller, batchId));
        members.sort(Comparator.comparing(m -> m.member().getCustomId() == null ? "" : m.member().getCustomId()));
        List<ObjectNode> out = new ArrayList<>(members.size());
        for (StatusService.Member m : members) {
            ObjectNode o = Json.mapper().createObjectNode();
            o.put("custom_id", m.member().getCustomId());
            o.put("request_id", m.member().getRequestId());
            o.put("status", m.member().getState());
            LlmResult r = m.result();
            if (r != null) {
                o.put("model", r.getServedModel() != null ? r.getServedModel() : r.getModel());
                if (r.getOutput() != null) {
                    o.put("output", r.getOutput());
                    o.put("finish_reason", r.getFinishReason());
                }
                if (r.getUsage() != null) {
                    o.putObject("usage").put("prompt_tokens", r.getUsage().getPromptTokens())
                            .put("completion_tokens", r.getUsage().getCompletionTokens())
                            .put("total_tokens", r.getUsage().getPromptTokens() + r.getUsage().getCompletionTokens());
                }
                if (r.getError() != null) {
                    o.putObject("error").put("type", r.getError().getType()).put("message", r.getError().getMessage());
                }
                if (r.getCompletedAt() != null) {
                    o.put("completed_at", r.getCompletedAt().toString());
                }
            }
            out.add(o);
        }
        return out;
    }
}
