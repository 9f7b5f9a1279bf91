package llmq.modelsim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import llmq.modelsim.tokens.TokenModel;
import llmq.modelsim.tokens.TokenModel.Message;
import org.junit.jupiter.api.Test;

class TokenModelTest {

    private final TokenModel model = TokenModel.withDefaults();

    @Test
    void shouldCountPromptTokensPerMessagePlusThree() {
        List<Message> messages = List.of(Message.system("abcd"), Message.user("abcde"), new Message("assistant", null));
        // ceil(4/4)+4 + ceil(5/4)+4 + 0+4 + 3
        assertThat(TokenModel.promptTokens(messages)).isEqualTo(5 + 6 + 4 + 3);
    }

    @Test
    void shouldCountCodePointsNotUtf16Units() {
        assertThat(TokenModel.promptTokens(List.of(Message.user("😀😀😀😀")))).isEqualTo(1 + 4 + 3);
    }

    @Test
    void shouldKeepNaturalCompletionWithinBoundsAndSpreadOverThem() {
        Set<Integer> lengths = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            int n = model.naturalCompletionTokens(List.of(Message.user("prompt " + i)));
            assertThat(n).isBetween(8, 64);
            lengths.add(n);
        }
        assertThat(lengths).contains(8, 64).hasSizeGreaterThan(40);
    }

    @Test
    void shouldAnswerTheSamePromptIdentically() {
        List<Message> prompt = List.of(Message.user("hello"));
        assertThat(model.complete(prompt, null)).isEqualTo(model.complete(List.of(Message.user("hello")), null));
        assertThat(model.complete(prompt, null)).isNotEqualTo(model.complete(List.of(Message.user("hello!")), null));
    }

    @Test
    void shouldEmitExactlyOneWordPerCompletionToken() {
        TokenModel.Completion c = model.complete(List.of(Message.user("count me")), null);
        assertThat(c.text().split(" ")).hasSize(c.completionTokens());
        assertThat(c.finishReason()).isEqualTo("stop");
        assertThat(c.totalTokens()).isEqualTo(c.promptTokens() + c.completionTokens());
    }

    @Test
    void shouldCutCompletionAtMaxTokensToAPrefixWithFinishReasonLength() {
        List<Message> prompt = List.of(Message.user("a long answer please"));
        TokenModel.Completion full = model.complete(prompt, null);
        TokenModel.Completion cut = model.complete(prompt, 3);
        assertThat(cut.completionTokens()).isEqualTo(3);
        assertThat(cut.finishReason()).isEqualTo("length");
        assertThat(cut.words()).isEqualTo(full.words().subList(0, 3));
        assertThat(model.complete(prompt, full.completionTokens()).finishReason()).isEqualTo("stop");
    }

    @Test
    void shouldRejectBoundsThatCannotProduceATokenCount() {
        assertThatThrownBy(() -> new TokenModel(0, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TokenModel(10, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new TokenModel(7, 7).naturalCompletionTokens(List.of(Message.user("x")))).isEqualTo(7);
    }
}
