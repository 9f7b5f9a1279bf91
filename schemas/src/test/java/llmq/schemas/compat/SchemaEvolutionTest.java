package llmq.schemas.compat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import llmq.schemas.Schemas;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The build's schema-evolution gate: every top-level schema has a committed history under
 * {@code src/main/schema-history}, the current schema is the newest recorded version, and it
 * can read data written with every recorded version ({@link SchemaHistory#RULE}).
 */
class SchemaEvolutionTest {

    private static final SchemaHistory HISTORY = SchemaHistory.ofModule();

    static Stream<Class<? extends SpecificRecord>> topLevel() {
        return Schemas.TOP_LEVEL.stream();
    }

    private static Schema current(Class<? extends SpecificRecord> type) {
        return SpecificData.getForClass(type).getSchema(type);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("topLevel")
    void shouldHaveACommittedHistory(Class<? extends SpecificRecord> type) {
        String name = current(type).getName();
        assertThat(HISTORY.versions(name))
                .as("no schema history for %s in %s: record it with%n  %s", name, HISTORY.directory(name),
                        SchemaHistory.RECORD_COMMAND)
                .isNotEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("topLevel")
    void shouldReadDataWrittenWithEveryRecordedVersion(Class<? extends SpecificRecord> type) {
        Schema current = current(type);
        List<Schema> recorded = HISTORY.versions(current.getName()).stream().map(SchemaHistory.Version::schema).toList();
        assertThat(SchemaHistory.RULE.problems(current, recorded))
                .as("the current schema of %s is not %s compatible with its history in %s; topics already hold"
                        + " data written with those versions, so make the change compatible (e.g. give a new"
                        + " field a default) instead of editing the history",
                        current.getName(), SchemaHistory.RULE, HISTORY.directory(current.getName()))
                .isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("topLevel")
    void shouldHaveRecordedTheCurrentSchemaAsNewestVersion(Class<? extends SpecificRecord> type) {
        Schema current = current(type);
        SchemaHistory.Version newest = HISTORY.latest(current.getName()).orElse(null);
        assertThat(newest).as("no schema history for %s", current.getName()).isNotNull();
        assertThat(SchemaHistory.sameSchema(newest.schema(), current))
                .as("the schema of %s changed since %s was recorded; if the change is intended, record it"
                        + " (it is appended only if backward compatible) and commit the new file:%n  %s",
                        current.getName(), newest.file(), SchemaHistory.RECORD_COMMAND)
                .isTrue();
    }

    @Test
    void shouldKeepHistoryOnlyForTopLevelRecords() throws IOException {
        Set<String> known = Schemas.TOP_LEVEL.stream().map(t -> current(t).getName()).collect(Collectors.toSet());
        try (Stream<Path> dirs = Files.list(HISTORY.root())) {
            List<String> unknown = dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(n -> !known.contains(n)).toList();
            assertThat(unknown)
                    .as("schema history for records not in Schemas.TOP_LEVEL, which is never checked:"
                            + " add the record to Schemas.TOP_LEVEL or delete its folder from %s", HISTORY.root())
                    .isEmpty();
        }
    }
}
