package llmq.schemas.compat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * The committed versions of each top-level schema: {@code <root>/<RecordName>/v001.avsc},
 * {@code v002.avsc}, ..., each the full self-contained schema, pretty-printed.
 *
 * <p>Used by {@link SchemaEvolutionTest} to fail the build on an unrecorded or incompatible
 * change, and by {@link RecordSchemaHistory} to record a new version. A new version is accepted
 * only if it is {@link #RULE BACKWARD_TRANSITIVE} compatible: consumers upgraded first can read
 * everything ever written to the topics.
 */
public final class SchemaHistory {

    /** The rule every new version must satisfy against all recorded ones. */
    public static final Compatibility RULE = Compatibility.BACKWARD_TRANSITIVE;

    /** The history folder, relative to the schemas module. */
    public static final Path MODULE_RELATIVE_ROOT = Path.of("src", "main", "schema-history");

    /** The command that records the current schemas, run from the repository root. */
    public static final String RECORD_COMMAND = "mvn -o -q -B -pl schemas test-compile exec:java"
            + " -Dexec.mainClass=" + RecordSchemaHistory.class.getName() + " -Dexec.classpathScope=test";

    private static final Pattern VERSION_FILE = Pattern.compile("v(\\d{3,})\\.avsc");

    private final Path root;

    /** A history kept under {@code root} (one folder per record). */
    public SchemaHistory(Path root) {
        this.root = root;
    }

    /**
     * The module's history, found from the working directory: the schemas module itself (as under
     * Surefire, or Maven's {@code basedir}) or the repository root (as under {@code exec:java}).
     */
    public static SchemaHistory ofModule() {
        List<Path> candidates = new ArrayList<>();
        String basedir = System.getProperty("basedir");
        if (basedir != null) {
            candidates.add(Path.of(basedir).resolve(MODULE_RELATIVE_ROOT));
        }
        candidates.add(MODULE_RELATIVE_ROOT);
        candidates.add(Path.of("schemas").resolve(MODULE_RELATIVE_ROOT));
        for (Path candidate : candidates) {
            if (Files.isDirectory(candidate)) {
                return new SchemaHistory(candidate);
            }
        }
        throw new IllegalStateException("no schema history found at any of " + candidates
                + " (working directory " + Path.of("").toAbsolutePath() + ")");
    }

    /** The folder holding the versions of the record named {@code recordName}. */
    public Path directory(String recordName) {
        return root.resolve(recordName);
    }

    /** The folder holding every record's versions. */
    public Path root() {
        return root;
    }

    /** The recorded versions of {@code recordName}, oldest first; empty when none is recorded. */
    public List<Version> versions(String recordName) {
        Path dir = directory(recordName);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Version> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Matcher m = VERSION_FILE.matcher(file.getFileName().toString());
                if (!m.matches()) {
                    throw new IllegalStateException("unexpected file " + file + " in the schema history: only vNNN.avsc belongs there");
                }
                out.add(new Version(Integer.parseInt(m.group(1)), file, parse(file)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        out.sort(Comparator.comparingInt(Version::number));
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).number() != i + 1) {
                throw new IllegalStateException("schema history of " + recordName + " has a gap: expected v"
                        + format(i + 1) + " but found " + out.get(i).file().getFileName());
            }
        }
        return out;
    }

    /** The newest recorded version of {@code recordName}, if any. */
    public Optional<Version> latest(String recordName) {
        List<Version> versions = versions(recordName);
        return versions.isEmpty() ? Optional.empty() : Optional.of(versions.get(versions.size() - 1));
    }

    /**
     * What recording {@code current} would do: nothing (already the newest version), write the next
     * version, or refuse because it breaks {@link #RULE} against some recorded version.
     */
    public Plan plan(Schema current) {
        String name = current.getName();
        List<Version> versions = versions(name);
        if (!versions.isEmpty() && sameSchema(versions.get(versions.size() - 1).schema(), current)) {
            return new Plan(name, Plan.Kind.UNCHANGED, versions.get(versions.size() - 1).file(), List.of());
        }
        List<String> problems = RULE.problems(current, versions.stream().map(Version::schema).toList());
        Path next = directory(name).resolve("v" + format(versions.size() + 1) + ".avsc");
        return new Plan(name, problems.isEmpty() ? Plan.Kind.NEW_VERSION : Plan.Kind.INCOMPATIBLE, next, problems);
    }

    /** Writes {@code plan}'s new version; only for a plan of kind {@link Plan.Kind#NEW_VERSION}. */
    public void write(Plan plan, Schema current) {
        if (plan.kind() != Plan.Kind.NEW_VERSION) {
            throw new IllegalArgumentException("nothing to write for " + plan);
        }
        try {
            Files.createDirectories(plan.file().getParent());
            Files.writeString(plan.file(), current.toString(true) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + plan.file(), e);
        }
    }

    /**
     * True when both schemas are the same document: same names, fields, types, defaults, docs and
     * properties (whitespace and key order of the files do not matter). A doc change counts, as it
     * does for the registry, which gives a schema with another doc another id.
     */
    public static boolean sameSchema(Schema a, Schema b) {
        return a.equals(b) && a.toString().equals(b.toString());
    }

    /** Parses one self-contained schema file. */
    public static Schema parse(Path file) {
        try {
            return new Schema.Parser().parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (SchemaParseException e) {
            throw new IllegalStateException("invalid schema in " + file + ": " + e.getMessage(), e);
        }
    }

    private static String format(int number) {
        return String.format("%03d", number);
    }

    /** One recorded version of a record's schema. */
    public record Version(int number, Path file, Schema schema) {
    }

    /**
     * The outcome of checking a schema against its history: {@code file} is the newest version when
     * unchanged, else the file a new version would be written to.
     */
    public record Plan(String recordName, Kind kind, Path file, List<String> problems) {

        /** What recording would do. */
        public enum Kind {
            /** The schema is already the newest recorded version. */
            UNCHANGED,
            /** The schema changed compatibly and can be recorded as the next version. */
            NEW_VERSION,
            /** The schema changed in a way that breaks {@link SchemaHistory#RULE}. */
            INCOMPATIBLE
        }
    }
}
