package llmq.standalone;

import java.io.PrintWriter;
import llmq.cli.LlmqCli;
import llmq.common.lifecycle.JvmDefaults;
import picocli.CommandLine;

/**
 * The {@code llmq} command: {@code llmq up} runs everything on this machine; every other
 * subcommand ({@code topics}, ...) is the admin CLI.
 */
public final class LlmqMain {

    private LlmqMain() {
    }

    public static void main(String[] args) {
        JvmDefaults.apply();
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        CommandLine cl = LlmqCli.commandLine(out, err);
        cl.addSubcommand("up", new UpCommand());
        int rc = cl.execute(args.length == 0 ? new String[] {"up"} : args);
        if (rc != 0 || args.length == 0 || !"up".equals(args[0])) {
            System.exit(rc);
        }
    }
}
