package llmq.bench.rig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompilerPriorityTest {

    @Test
    void findsTheCompilerThreadsByTheirNames(@TempDir Path tasks) throws IOException {
        thread(tasks, 101, "main");
        thread(tasks, 117, "C2 CompilerThre");
        thread(tasks, 118, "C1 CompilerThre");
        thread(tasks, 140, "kafka-producer-network-thread | x");
        thread(tasks, 152, "C2 CompilerThre");
        assertEquals(List.of(117L, 118L, 152L), CompilerPriority.compilerThreads(tasks));
    }

    @Test
    void findsNoneWithoutProc(@TempDir Path dir) {
        assertTrue(CompilerPriority.compilerThreads(dir.resolve("absent")).isEmpty());
    }

    @Test
    void raisesThisJvmsCompilersAndPutsThemBackAtZero() throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "Linux /proc");
        List<Long> compilers = CompilerPriority.compilerThreads(Path.of("/proc/self/task"));
        assertFalse(compilers.isEmpty(), "HotSpot on Linux names its compiler threads C1/C2 CompilerThre…");
        try (CompilerPriority boost = CompilerPriority.boost()) {
            if (!boost.raised()) {
                // not root and no CAP_SYS_NICE: the boost must say so and leave the threads alone
                assertTrue(boost.toString().contains("unchanged"), boost.toString());
                for (long tid : compilers) {
                    assertEquals(0, nice(tid));
                }
                return;
            }
            for (long tid : CompilerPriority.compilerThreads(Path.of("/proc/self/task"))) {
                assertEquals(CompilerPriority.BOOSTED, nice(tid), "thread " + tid + " while boosted");
            }
        }
        for (long tid : CompilerPriority.compilerThreads(Path.of("/proc/self/task"))) {
            assertEquals(0, nice(tid), "thread " + tid + " after the boost");
        }
    }

    private static void thread(Path tasks, long tid, String comm) throws IOException {
        Path t = Files.createDirectories(tasks.resolve(Long.toString(tid)));
        Files.writeString(t.resolve("comm"), comm + "\n");
    }

    /** Field 19 of /proc/self/task/&lt;tid&gt;/stat, counted after the command name in parentheses. */
    private static int nice(long tid) throws IOException {
        String stat = Files.readString(Path.of("/proc/self/task", Long.toString(tid), "stat"));
        String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(rest[16]);
    }
}
