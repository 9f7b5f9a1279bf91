package llmq.bench.report;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import llmq.common.json.Json;

/** What a result was measured on: cores, memory, CPU model, JDK, OS and the load average. */
public final class Machine {

    private Machine() {
    }

    /** This machine, now. */
    public static ObjectNode describe() {
        ObjectNode m = Json.mapper().createObjectNode();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        long memKb = procValue("/proc/meminfo", "MemTotal:");
        if (memKb > 0) {
            m.put("memory_mib", memKb / 1024);
        }
        String cpu = procLine("/proc/cpuinfo", "model name");
        if (cpu != null) {
            m.put("cpu", cpu.substring(cpu.indexOf(':') + 1).trim());
        }
        m.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        m.put("jvm_options", String.join(" ", java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
                .stream().filter(a -> a.startsWith("-X")).toList()));
        m.put("load_average", loadAverage());
        return m;
    }

    /** The 1, 5 and 15 minute load averages, as in /proc/loadavg ("" where unreadable). */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** One line such as "2 cores, 23.5 GiB, OpenJDK 64-Bit Server VM 17.0.15+6". */
    public static String oneLine(ObjectNode m) {
        StringBuilder b = new StringBuilder();
        b.append(m.path("cores").asInt()).append(" cores");
        if (m.has("memory_mib")) {
            b.append(", ").append(String.format(java.util.Locale.ROOT, "%.1f GiB", m.get("memory_mib").asLong() / 1024.0));
        }
        if (m.has("cpu")) {
            b.append(", ").append(m.get("cpu").asText());
        }
        b.append(", ").append(m.path("jdk").asText());
        return b.toString();
    }

    private static long procValue(String file, String key) {
        String line = procLine(file, key);
        if (line == null) {
            return -1;
        }
        try {
            return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static String procLine(String file, String prefix) {
        try {
            List<String> lines = Files.readAllLines(Path.of(file));
            return lines.stream().filter(l -> l.startsWith(prefix)).findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }
}
