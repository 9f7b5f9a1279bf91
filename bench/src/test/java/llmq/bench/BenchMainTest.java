package llmq.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchMainTest {

    @Test
    void shouldParseEachScenariosTimeLimit() {
        assertEquals(Map.of("baseline", 240, "end-to-end", 420), BenchMain.limits("baseline=240, end-to-end=420"));
        assertEquals(Map.of(), BenchMain.limits(""));
    }

    @Test
    void shouldNameOnlyTheThreadsAScenarioLeftWithTheirNumbersFolded() {
        List<String> before = List.of("main", "kafka-scheduler-0", "HttpClient-1-SelectorManager");
        List<String> after = List.of("main", "kafka-scheduler-0", "kafka-scheduler-1", "HttpClient-1-SelectorManager",
                "HttpClient-7-Worker-0", "HttpClient-7-Worker-1", "llmq-ingest-acks");
        assertEquals("HttpClient-#-Worker-# ×2, kafka-scheduler-#, llmq-ingest-acks", BenchMain.newThreads(before, after));
        assertEquals("", BenchMain.newThreads(after, before));
    }
}
