package llmq.worker.consume;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.TreeSet;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The compact list of finished offsets beyond the commit point that travels in the commit metadata. */
class CommitMetadataTest {

    @Test
    void shouldEncodeRunsRelativeToTheCommitPoint() {
        assertThat(CommitMetadata.encode(100, new TreeSet<>(List.of(102L, 103L, 104L, 110L)), 100))
                .isEqualTo("llmq1:2.2,5");
    }

    @Test
    void shouldDecodeWhatItEncoded() {
        TreeSet<Long> finished = new TreeSet<>();
        LongStream.of(1001, 1002, 1005, 1006, 1007, 1008, 1020, 5000).forEach(finished::add);
        String text = CommitMetadata.encode(1000, finished, 100);

        OffsetRanges decoded = CommitMetadata.decode(1000, text);
        assertThat(LongStream.range(990, 6000).filter(decoded::contains).boxed().toList())
                .containsExactlyElementsOf(finished);
    }

    @Test
    void shouldIgnoreOffsetsAtOrBelowThePoint() {
        assertThat(CommitMetadata.encode(10, new TreeSet<>(List.of(5L, 10L)), 100)).isEmpty();
        assertThat(CommitMetadata.encode(10, new TreeSet<>(List.of(5L, 12L)), 100)).isEqualTo("llmq1:2");
    }

    @Test
    void shouldKeepTheLowestRunsWhenTheTextWouldBeTooLong() {
        TreeSet<Long> finished = new TreeSet<>();
        for (long o = 2; o < 2_000; o += 2) {
            finished.add(o);
        }
        String text = CommitMetadata.encode(0, finished, 40);

        assertThat(text.length()).isLessThanOrEqualTo(40);
        OffsetRanges decoded = CommitMetadata.decode(0, text);
        assertThat(decoded.contains(2)).isTrue();
        assertThat(decoded.contains(4)).isTrue();
        assertThat(decoded.contains(3)).isFalse();
        assertThat(decoded.contains(1998)).isFalse();
    }

    @Test
    void shouldDecodeForeignOrBrokenMetadataToNothing() {
        assertThat(CommitMetadata.decode(0, null).isEmpty()).isTrue();
        assertThat(CommitMetadata.decode(0, "").isEmpty()).isTrue();
        assertThat(CommitMetadata.decode(0, "written by another tool").isEmpty()).isTrue();
        assertThat(CommitMetadata.decode(0, "llmq1:2,zz!,3").isEmpty()).isTrue();
    }

    @Test
    void shouldWriteNothingWhenDisabled() {
        assertThat(CommitMetadata.encode(0, new TreeSet<>(List.of(3L)), 0)).isEmpty();
    }
}
