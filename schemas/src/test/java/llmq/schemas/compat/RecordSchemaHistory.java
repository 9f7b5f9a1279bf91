package llmq.schemas.compat;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import llmq.schemas.Schemas;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;

/**
 * Command line tool that records the current schema of every top-level record
 * ({@link Schemas#TOP_LEVEL}) in the committed schema history, as the next {@code vNNN.avsc},
 * but only when it is backward compatible with every version already recorded.
 *
 * <p>Run from the repository root (compiling first, so the generated classes are current):
 * <pre>{@code
 * mvn -o -q -B -pl schemas test-compile exec:java \
 *     -Dexec.mainClass=llmq.schemas.compat.RecordSchemaHistory -Dexec.classpathScope=test
 * }</pre>
 * An optional argument names the history folder; by default it is found from the working
 * directory. All records are checked before anything is written: if one is incompatible, the
 * problems are printed, nothing is written and the exit status is 1.
 */
public final class RecordSchemaHistory {

    private RecordSchemaHistory() {
    }

    /** Entry point; see the class description. */
    public static void main(String[] args) {
        SchemaHistory history = args.length > 0 ? new SchemaHistory(Path.of(args[0])) : SchemaHistory.ofModule();
        List<Schema> current = Schemas.TOP_LEVEL.stream()
                .map(type -> SpecificData.getForClass(type).getSchema(type)).toList();
        int status = run(history, current, System.out, System.err);
        if (status != 0) {
            System.exit(status);
        }
    }

    /**
     * Records each of {@code schemas} that changed in {@code history}; returns the exit status:
     * 0 when all are recorded (or unchanged), 1 when some change is incompatible (nothing written).
     */
    static int run(SchemaHistory history, List<Schema> schemas, PrintStream out, PrintStream err) {
        List<SchemaHistory.Plan> plans = schemas.stream().map(history::plan).toList();
        List<SchemaHistory.Plan> refused = plans.stream()
                .filter(p -> p.kind() == SchemaHistory.Plan.Kind.INCOMPATIBLE).toList();
        if (!refused.isEmpty()) {
            for (SchemaHistory.Plan plan : refused) {
                err.println(plan.recordName() + ": not recorded, the change is not " + SchemaHistory.RULE
                        + " compatible with the history in " + history.directory(plan.recordName()) + ":");
                plan.problems().forEach(p -> err.println("  - " + p));
            }
            err.println("Nothing was written. Make the change backward compatible (e.g. give a new field a"
                    + " default, add a union branch instead of changing a type), or publish it under a new"
                    + " record and topic.");
            return 1;
        }
        int written = 0;
        for (int i = 0; i < plans.size(); i++) {
            SchemaHistory.Plan plan = plans.get(i);
            if (plan.kind() == SchemaHistory.Plan.Kind.NEW_VERSION) {
                history.write(plan, schemas.get(i));
                out.println(plan.recordName() + ": recorded " + plan.file());
                written++;
            }
        }
        if (written == 0) {
            out.println("All " + plans.size() + " schemas are already recorded in " + history.root() + ".");
        }
        return 0;
    }
}
