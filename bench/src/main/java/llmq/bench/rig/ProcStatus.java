package llmq.bench.rig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Values of /proc/&lt;pid&gt;/status, such as {@code VmRSS}. */
public final class ProcStatus {

    private ProcStatus() {
    }

    /** The value of {@code field} (e.g. {@code "VmRSS:"}) in KiB, or -1 if the process or field is gone. */
    public static long kib(long pid, String field) {
        try {
            return parse(Files.readString(Path.of("/proc", Long.toString(pid), "status")), field);
        } catch (IOException e) {
            return -1;
        }
    }

    /** This JVM's own value of {@code field}, in KiB. */
    public static long selfKib(String field) {
        return kib(ProcessHandle.current().pid(), field);
    }

    static long parse(String status, String field) {
        for (String line : status.split("\n")) {
            if (line.startsWith(field)) {
                String[] parts = line.substring(field.length()).trim().split("\\s+");
                try {
                    return Long.parseLong(parts[0]);
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }
}
