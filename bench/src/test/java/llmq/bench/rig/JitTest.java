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
}
