package llmq.worker.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import llmq.worker.model.ChatCompletions;
import llmq.worker.model.Completion;
import llmq.worker.model.ModelCall;
import llmq.worker.model.ModelCallException;

/** A model whose calls stay open until the test answers them. */
public final class HeldModel implements ChatCompletions {

    /** One open or answered call. */
    public record Call(ModelCall call, CompletableFuture<Completion> answer) {
        public String prompt() {
            return call.request().getMessages().get(0).getContent();
        }
    }

    private final List<Call> calls = new CopyOnWriteArrayList<>();

    @Override
    public CompletableFuture<Completion> complete(ModelCall call) {
        CompletableFuture<Completion> f = new CompletableFuture<>();
        calls.add(new Call(call, f));
        return f;
    }

    public int calls() {
        return calls.size();
    }

    public List<Call> all() {
        return new ArrayList<>(calls);
    }

    /** Answers the oldest open call whose prompt is {@code prompt}. */
    public void release(String prompt) {
        for (Call c : calls) {
            if (c.prompt().equals(prompt) && !c.answer().isDone()) {
                c.answer().complete(answer());
                return;
            }
        }
        throw new AssertionError("no open call for " + prompt);
    }

    /** Fails the oldest open call whose prompt is {@code prompt}. */
    public void fail(String prompt, ModelCallException e) {
        for (Call c : calls) {
            if (c.prompt().equals(prompt) && !c.answer().isDone()) {
                c.answer().completeExceptionally(e);
                return;
            }
        }
        throw new AssertionError("no open call for " + prompt);
    }

    public void releaseAll() {
        calls.forEach(c -> c.answer().complete(answer()));
    }

    public static Completion answer() {
        return new Completion("ok", "stop", "sim-small", 5, 1, 0, false, "sim", 1);
    }
}
