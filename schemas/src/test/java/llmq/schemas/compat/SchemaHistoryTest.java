package llmq.schemas.compat;

import static llmq.schemas.compat.SchemaEdits.withDoc;
import static llmq.schemas.compat.SchemaEdits.withField;
import static llmq.schemas.compat.SchemaEdits.withoutDefault;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import llmq.avro.LlmRequest;
import llmq.avro.UsageEvent;
import org.apache.avro.Schema;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link RecordSchemaHistory} and {@link SchemaHistory} on a history in a temporary folder. */
class SchemaHistoryTest {

    private static final Schema REQUEST = LlmRequest.getClassSchema();
    private static final Schema USAGE = UsageEvent.getClassSchema();

    @TempDir
    Path root;

    private SchemaHistory history;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void setUp() {
        history = new SchemaHistory(root);
    }

    private int record(Schema... schemas) {
        out.reset();
        err.reset();
        return RecordSchemaHistory.run(history, List.of(schemas), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void shouldRecordFirstVersionAsPrettyPrintedSelfContainedSchema() throws IOException {
        assertThat(record(REQUEST, USAGE)).isZero();

        Path v001 = root.resolve("LlmRequest").resolve("v001.avsc");
        assertThat(Files.readString(v001)).startsWith("{\n").contains("\"name\" : \"ChatMessage\"");
        assertThat(SchemaHistory.parse(v001)).isEqualTo(REQUEST);
        assertThat(history.versions("UsageEvent")).extracting(SchemaHistory.Version::number).containsExactly(1);
    }

    @Test
    void shouldWriteNothingWhenTheSchemaIsAlreadyRecorded() {
        record(REQUEST);

        assertThat(record(REQUEST)).isZero();

        assertThat(out.toString(StandardCharsets.UTF_8)).contains("already recorded");
        assertThat(history.versions("LlmRequest")).hasSize(1);
    }

    @Test
    void shouldAppendABackwardCompatibleChangeAsTheNextVersion() {
        record(REQUEST);
        Schema v2 = withField(REQUEST, "{\"name\": \"region\", \"type\": [\"null\", \"string\"], \"default\": null}");

        assertThat(record(v2)).isZero();

        assertThat(history.versions("LlmRequest")).extracting(SchemaHistory.Version::number).containsExactly(1, 2);
        assertThat(SchemaHistory.sameSchema(history.latest("LlmRequest").orElseThrow().schema(), v2)).isTrue();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("LlmRequest: recorded", "v002.avsc");
    }

    @Test
    void shouldRefuseAnIncompatibleChangeAndWriteNothing() {
        record(REQUEST, USAGE);
        Schema breaking = withField(REQUEST, "{\"name\": \"region\", \"type\": \"string\"}");
        Schema fine = withField(USAGE, "{\"name\": \"region\", \"type\": [\"null\", \"string\"], \"default\": null}");

        assertThat(record(breaking, fine)).isEqualTo(1);

        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("LlmRequest: not recorded", "READER_FIELD_MISSING_DEFAULT_VALUE", "region", "Nothing was written");
        assertThat(history.versions("LlmRequest")).hasSize(1);
        assertThat(history.versions("UsageEvent")).as("nothing is written when any record is refused").hasSize(1);
    }

    @Test
    void shouldRefuseAChangeThatOnlyAnOlderVersionCannotBeReadWith() {
        record(REQUEST);
        Schema v2 = withField(REQUEST, "{\"name\": \"region\", \"type\": \"string\", \"default\": \"eu\"}");
        record(v2);
        Schema v3 = withoutDefault(v2, "region");

        assertThat(record(v3)).isEqualTo(1);

        assertThat(history.plan(v3).kind()).isEqualTo(SchemaHistory.Plan.Kind.INCOMPATIBLE);
        assertThat(history.versions("LlmRequest")).hasSize(2);
    }

    @Test
    void shouldTreatADocChangeAsANewVersion() {
        record(REQUEST);
        Schema redocumented = withDoc(REQUEST, "An LLM call as submitted, reworded.");

        assertThat(history.plan(redocumented).kind()).isEqualTo(SchemaHistory.Plan.Kind.NEW_VERSION);
    }

    @Test
    void shouldRejectAHistoryWithAGap() throws IOException {
        record(REQUEST);
        Files.move(root.resolve("LlmRequest/v001.avsc"), root.resolve("LlmRequest/v002.avsc"));

        assertThatThrownBy(() -> history.versions("LlmRequest"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("gap");
    }
}
