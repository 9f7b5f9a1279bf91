package llmq.bench.rig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class JitTest {

    @Test
    void stopsAtTheFirstRoundAfterTheMinimumOnceTheShareIsLowEnough() throws Exception {
        AtomicInteger rounds = new AtomicInteger();
        Jit.WarmUp w = Jit.warmUp(2, 5, Double.MAX_VALUE, rounds::incrementAndGet);
        assertEquals(2, rounds.get());
        assertTrue(w.steady());
        assertEquals(2, w.compileShares().size());
    }

    @Test
    void runsAtMostTheMaximumAndSaysItIsNotSteady() throws Exception {
        AtomicInteger rounds = new AtomicInteger();
        Jit.WarmUp w = Jit.warmUp(1, 3, -1, rounds::incrementAndGet);
        assertEquals(3, rounds.get());
        assertFalse(w.steady());
        assertTrue(w.toString().contains("not yet steady"), w.toString());
    }

    @Test
    void measuresCompileTimeOnThisJvm() {
        assertTrue(Jit.compileMillis() >= 0, "HotSpot reports its compile time");
    }

    @Test
    void waitsUntilAWindowWithLittleCompilingThenSaysHowLongItWaited() throws Exception {
        // 900 ms of compiling in each of the first three 1-s windows, then 50 ms
        long[] compiled = {0, 900, 900, 1800, 1800, 2700, 2700, 2750};
        AtomicInteger reads = new AtomicInteger();
        Jit.Quiet q = Jit.awaitQuiet(0.1, 1000, 30_000, () -> compiled[reads.getAndIncrement()], ms -> { });
        assertTrue(q.quiet());
        assertEquals(4000, q.waitedMillis());
        assertEquals(0.05, q.lastShare(), 1e-9);
    }

    @Test
    void givesUpAtTheCapAndSaysTheJitIsStillBusy() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        Jit.Quiet q = Jit.awaitQuiet(0.1, 1000, 3000, () -> reads.getAndIncrement() * 500L, ms -> { });
        assertFalse(q.quiet());
        assertEquals(3000, q.waitedMillis());
        assertTrue(q.toString().contains("still busy"), q.toString());
    }
}
