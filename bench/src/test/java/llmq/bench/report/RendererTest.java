package llmq.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RendererTest {

    private static ObjectNode result(String runId, boolean quick, double figure, double ratio) {
        Result r = new Result("ingest", "ingest: POST", runId, quick);
        r.figure("max", "max sustained 202/s", figure, "req/s");
        r.ratio("over_producer", "ingest ÷ producer", ratio, "");
        return r.finish(1.0);
    }

    @Test
    void shouldKeepTheFormerResultAsThePreviousOne(@TempDir Path dir) throws Exception {
        ResultFiles files = new ResultFiles(dir);
        files.write("ingest", result("run-1", false, 1000, 0.10));
        files.write("ingest", result("run-2", false, 1100, 0.11));
        assertThat(files.readLatest("ingest").orElseThrow().get("run_id").asText()).isEqualTo("run-2");
        assertThat(files.readPrevious("ingest").orElseThrow().get("run_id").asText()).isEqualTo("run-1");
        files.write("ingest", result("run-3", false, 1200, 0.12));
        assertThat(files.readPrevious("ingest").orElseThrow().get("run_id").asText()).isEqualTo("run-2");
    }

    @Test
    void shouldShowBothRunsRatiosAndWhetherTheyAgreeWithinTwentyPercent(@TempDir Path dir) throws Exception {
        ResultFiles files = new ResultFiles(dir);
        files.write("ingest", result("run-1", false, 1000, 0.100));
        files.write("ingest", result("run-2", false, 1100, 0.115));
        String md = new Renderer(files, List.of(new Renderer.Entry("ingest", "2"))).markdown();
        assertThat(md).contains("| 2 | ingest: POST | max sustained 202/s | 1 100 req/s | 1 000 req/s | +10 % |");
        assertThat(md).contains("| 2 | ingest ÷ producer |  | 0.115 | 0.100 | yes |");
        assertThat(md).contains("run `run-2` (").contains("), full mode, ").contains("load average (1 min) as each scenario began: ingest ");

        files.write("ingest", result("run-3", false, 1100, 0.150));
        assertThat(new Renderer(files, List.of(new Renderer.Entry("ingest", "2"))).markdown())
                .contains("| 2 | ingest ÷ producer |  | 0.150 | 0.115 | **no** |");
    }

    private static ObjectNode baseline(String runId, double producer, double hopP50) {
        Result r = new Result("baseline", "baseline", runId, false);
        r.figure("producer_records_per_second", "producer", producer, "records/s");
        r.figure("eos_hop_p50_ms", "hop p50", hopP50, "ms");
        return r.finish(1.0);
    }

    @Test
    void shouldSayWhenTheMachinesOwnLimitsMovedBetweenTheRuns(@TempDir Path dir) throws Exception {
        ResultFiles files = new ResultFiles(dir);
        List<Renderer.Entry> order = List.of(new Renderer.Entry("baseline", "1"));
        files.write("baseline", baseline("run-1", 76_000, 21.0));
        assertThat(new Renderer(files, order).markdown()).doesNotContain("The machine between");
        files.write("baseline", baseline("run-2", 72_000, 23.0));
        assertThat(new Renderer(files, order).markdown())
                .contains("producer 76 000 records/s → 72 000 records/s (-5 %); hop p50 21.0 ms → 23.0 ms (+10 %)")
                .contains("held within ±20 %").doesNotContain("moved by more than");
        files.write("baseline", baseline("run-3", 36_000, 24.0));
        assertThat(new Renderer(files, order).markdown())
                .contains("(-50 %)").contains("moved by more than ±20 %");
    }

    @Test
    void shouldNotJudgeReproducibilityAgainstAQuickRun(@TempDir Path dir) throws Exception {
        ResultFiles files = new ResultFiles(dir);
        files.write("ingest", result("run-1", true, 100, 0.01));
        files.write("ingest", result("run-2", false, 1000, 0.10));
        String md = new Renderer(files, List.of(new Renderer.Entry("ingest", "2"))).markdown();
        assertThat(md).contains("0.010 (quick)").contains("— (not two full runs)");
    }

    @Test
    void shouldListAPendingScenarioWithItsReason(@TempDir Path dir) throws Exception {
        ResultFiles files = new ResultFiles(dir);
        Result r = new Result("sink", "sink", "run-1", false);
        r.status("pending").note("pending: not on the classpath");
        files.write("sink", r.finish(0));
        assertThat(new Renderer(files, List.of(new Renderer.Entry("sink", "7"))).markdown())
                .contains("| 7 | sink | pending: not on the classpath |");
    }

    @Test
    void shouldReplaceOnlyTheGeneratedPartOfTheDoc(@TempDir Path dir) throws Exception {
        ResultFiles files = new ResultFiles(dir);
        files.write("ingest", result("run-1", false, 1000, 0.1));
        Renderer renderer = new Renderer(files, List.of(new Renderer.Entry("ingest", "2")));
        Path doc = dir.resolve("benchmarks.md");
        Files.writeString(doc, "# Benchmarks\n\nintro\n\n" + Renderer.BEGIN + "\nold table\n" + Renderer.END + "\n\n## After\n");
        renderer.updateDoc(doc);
        renderer.updateDoc(doc);
        String text = Files.readString(doc);
        assertThat(text).startsWith("# Benchmarks\n\nintro\n\n").endsWith("\n\n## After\n").doesNotContain("old table");
        assertThat(text.split("bench:results:begin", -1)).hasSize(2);
        assertThat(text).contains("1 000 req/s");
    }

    @Test
    void shouldWriteNullForANumberThatDoesNotExist() {
        Result r = new Result("x", "x", "r", false);
        r.figure("nan", "not measured", Double.NaN, "ms");
        assertThat(r.doc().get("figures").get(0).get("value").isNull()).isTrue();
        assertThat(Result.number(r.doc().get("figures").get(0).get("value"))).isNaN();
    }

    @Test
    void shouldFormatNumbersForTheTable() {
        assertThat(Renderer.number(84_123.4)).isEqualTo("84 123");
        assertThat(Renderer.number(123.4)).isEqualTo("123");
        assertThat(Renderer.number(12.34)).isEqualTo("12.3");
        assertThat(Renderer.number(1.234)).isEqualTo("1.23");
        assertThat(Renderer.number(0.01234)).isEqualTo("0.012");
        assertThat(Renderer.number(null)).isEqualTo("n/a");
        assertThat(Renderer.withinTolerance(1.2, 1.0)).isTrue();
        assertThat(Renderer.withinTolerance(0.79, 1.0)).isFalse();
    }
}
