package llmq.bench.report;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import llmq.common.json.Json;

/**
 * The results directory ({@code docs/benchmarks/}): {@code <scenario>.json} is the latest run,
 * {@code <scenario>.previous.json} the one before it, so the rendered table can show both runs'
 * ratios side by side.
 */
public final class ResultFiles {

    private final Path dir;

    public ResultFiles(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    public Path latest(String scenario) {
        return dir.resolve(scenario + ".json");
    }

    public Path previous(String scenario) {
        return dir.resolve(scenario + ".previous.json");
    }

    /** Writes {@code doc} as the latest result, keeping the former latest as the previous one. */
    public void write(String scenario, ObjectNode doc) throws IOException {
        Files.createDirectories(dir);
        Path latest = latest(scenario);
        if (Files.exists(latest)) {
            Files.move(latest, previous(scenario), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.writeString(latest, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(doc) + "\n");
    }

    public Optional<ObjectNode> readLatest(String scenario) {
        return read(latest(scenario));
    }

    public Optional<ObjectNode> readPrevious(String scenario) {
        return read(previous(scenario));
    }

    private static Optional<ObjectNode> read(Path file) {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of((ObjectNode) Json.mapper().readTree(file.toFile()));
        } catch (IOException | ClassCastException e) {
            return Optional.empty();
        }
    }
}
