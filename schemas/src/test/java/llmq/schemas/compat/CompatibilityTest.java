package llmq.schemas.compat;

import static llmq.schemas.compat.SchemaEdits.withField;
import static llmq.schemas.compat.SchemaEdits.withFieldType;
import static llmq.schemas.compat.SchemaEdits.withoutDefault;
import static llmq.schemas.compat.SchemaEdits.withoutField;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.UsageEvent;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/**
 * {@link Compatibility} applied to edits of the real schemas, with the Confluent registry's
 * meaning of each level.
 */
class CompatibilityTest {

    private static final Schema REQUEST = LlmRequest.getClassSchema();
    private static final Schema USAGE = UsageEvent.getClassSchema();

    @Test
    void shouldRejectNewRequiredFieldWithoutDefault() {
        Schema candidate = withField(REQUEST, "{\"name\": \"region\", \"type\": \"string\"}");

        assertThat(Compatibility.BACKWARD.problems(candidate, List.of(REQUEST)))
                .singleElement().asString()
                .contains("READER_FIELD_MISSING_DEFAULT_VALUE", "region");
        assertThat(Compatibility.FULL.problems(candidate, List.of(REQUEST))).isNotEmpty();
        assertThat(Compatibility.FORWARD.problems(candidate, List.of(REQUEST)))
                .as("old readers ignore a field they do not know").isEmpty();
    }

    @Test
    void shouldAcceptNewOptionalFieldWithDefault() {
        Schema candidate = withField(REQUEST, "{\"name\": \"region\", \"type\": [\"null\", \"string\"], \"default\": null}");

        for (Compatibility level : Compatibility.values()) {
            assertThat(level.problems(candidate, List.of(REQUEST))).as(level.name()).isEmpty();
        }
    }

    @Test
    void shouldRejectRemovingFieldWithoutDefaultForOldReaders() {
        Schema candidate = withoutField(REQUEST, "model");

        assertThat(Compatibility.FORWARD.problems(candidate, List.of(REQUEST)))
                .singleElement().asString()
                .contains("an existing schema cannot read", "READER_FIELD_MISSING_DEFAULT_VALUE", "model");
        assertThat(Compatibility.FULL.problems(candidate, List.of(REQUEST))).isNotEmpty();
        assertThat(Compatibility.BACKWARD.problems(candidate, List.of(REQUEST)))
                .as("the new reader skips the field old data still carries").isEmpty();
    }

    @Test
    void shouldAcceptRemovingFieldThatHasADefault() {
        Schema candidate = withoutField(REQUEST, "callback_url");

        assertThat(Compatibility.FULL_TRANSITIVE.problems(candidate, List.of(REQUEST))).isEmpty();
    }

    @Test
    void shouldRejectChangingFieldTypeFromIntToString() {
        Schema candidate = withFieldType(USAGE, "prompt_tokens", "\"string\"");

        assertThat(Compatibility.BACKWARD.problems(candidate, List.of(USAGE)))
                .singleElement().asString().contains("TYPE_MISMATCH", "/fields/4/type");
        assertThat(Compatibility.FORWARD.problems(candidate, List.of(USAGE)))
                .singleElement().asString().contains("TYPE_MISMATCH");
    }

    @Test
    void shouldAllowWideningIntToLongForNewReadersOnly() {
        Schema candidate = withFieldType(USAGE, "prompt_tokens", "\"long\"");

        assertThat(Compatibility.BACKWARD.problems(candidate, List.of(USAGE)))
                .as("a long reader reads an int (Avro promotion)").isEmpty();
        assertThat(Compatibility.FORWARD.problems(candidate, List.of(USAGE)))
                .as("an int reader cannot read a long").isNotEmpty();
    }

    @Test
    void shouldCheckOnlyTheLatestVersionUnlessBackwardTransitive() {
        Schema v1 = REQUEST;
        Schema v2 = withField(v1, "{\"name\": \"region\", \"type\": \"string\", \"default\": \"eu\"}");
        Schema v3 = withoutDefault(v2, "region");

        assertThat(Compatibility.BACKWARD.problems(v3, List.of(v1, v2)))
                .as("v2 data always carries region").isEmpty();
        assertThat(Compatibility.BACKWARD_TRANSITIVE.problems(v3, List.of(v1, v2)))
                .as("v1 data has no region and v3 has no default for it")
                .singleElement().asString().contains("READER_FIELD_MISSING_DEFAULT_VALUE", "region");
    }

    @Test
    void shouldCheckEveryOlderReaderOnlyWhenForwardTransitive() {
        Schema v1 = withField(REQUEST, "{\"name\": \"region\", \"type\": \"string\"}");
        Schema v2 = withField(REQUEST, "{\"name\": \"region\", \"type\": \"string\", \"default\": \"eu\"}");
        Schema v3 = REQUEST;

        assertThat(Compatibility.FORWARD.problems(v3, List.of(v1, v2)))
                .as("v2 readers fill region from its default").isEmpty();
        assertThat(Compatibility.FORWARD_TRANSITIVE.problems(v3, List.of(v1, v2)))
                .as("v1 readers need region and have no default").isNotEmpty();
        assertThat(Compatibility.FULL_TRANSITIVE.problems(v3, List.of(v1, v2))).isNotEmpty();
    }

    @Test
    void shouldLetOldReadersMapANewEnumSymbolToTheEnumDefault() {
        Schema withBulk = enumWith(Priority.getClassSchema(), "NORMAL", "REALTIME", "HIGH", "NORMAL", "LOW", "BULK");
        Schema oldWithoutDefault = enumWith(Priority.getClassSchema(), null, "REALTIME", "HIGH", "NORMAL", "LOW");

        assertThat(Compatibility.FULL.problems(withBulk, List.of(Priority.getClassSchema()))).isEmpty();
        assertThat(Compatibility.FORWARD.problems(withBulk, List.of(oldWithoutDefault)))
                .singleElement().asString().contains("MISSING_ENUM_SYMBOLS", "BULK");
    }

    @Test
    void shouldAcceptAnyChangeUnderNoneAndAnyFirstVersion() {
        Schema unrelated = withFieldType(USAGE, "prompt_tokens", "\"string\"");

        assertThat(Compatibility.NONE.problems(unrelated, List.of(USAGE))).isEmpty();
        assertThat(Compatibility.FULL_TRANSITIVE.problems(unrelated, List.of())).isEmpty();
    }

    @Test
    void shouldParseLevelNamesAsTheRegistryApiSpellsThem() {
        assertThat(Compatibility.parse(" backward_transitive ")).isEqualTo(Compatibility.BACKWARD_TRANSITIVE);
        assertThat(Compatibility.parse("FULL")).isEqualTo(Compatibility.FULL);
        assertThatThrownBy(() -> Compatibility.parse("SIDEWAYS")).isInstanceOf(IllegalArgumentException.class);
    }

    private static Schema enumWith(Schema base, String defaultSymbol, String... symbols) {
        return Schema.createEnum(base.getName(), base.getDoc(), base.getNamespace(), List.of(symbols), defaultSymbol);
    }
}
