package llmq.bench.rig;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProcStatusTest {

    @Test
    void shouldReadKibValuesOfProcStatus() {
        String status = "Name:\tjava\nVmPeak:\t 4000000 kB\nVmHWM:\t  512000 kB\nVmRSS:\t  498123 kB\n";
        assertThat(ProcStatus.parse(status, "VmRSS:")).isEqualTo(498_123);
        assertThat(ProcStatus.parse(status, "VmHWM:")).isEqualTo(512_000);
        assertThat(ProcStatus.parse(status, "VmSwap:")).isEqualTo(-1);
    }

    @Test
    void shouldReadThisJvmsOwnResidentMemory() {
        assertThat(ProcStatus.selfKib("VmRSS:")).isPositive();
    }
}
