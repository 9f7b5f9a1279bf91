package llmq.cli;

import java.io.PrintWriter;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.Callable;
import llmq.common.db.DbConfig;
import llmq.common.db.Migrations;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code llmq db migrate}: applies llmq's pending PostgreSQL migrations as {@code db.user}, for
 * deployments whose services run with {@code db.migrate=false} (a service user that may not change
 * the schema). Safe to run while services run and to run again: what is applied is recorded.
 */
@Command(name = "db", mixinStandardHelpOptions = true, description = "The PostgreSQL schema (db.url, db.user, db.password).",
        subcommands = DbCommand.Migrate.class)
final class DbCommand {

    @ParentCommand
    LlmqCli root;

    @Command(name = "migrate", mixinStandardHelpOptions = true, description = "Apply pending migrations and print them.")
    static final class Migrate implements Callable<Integer> {

        @ParentCommand
        DbCommand db;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            DbConfig config = DbConfig.from(db.root.settings());
            List<Migrations.Script> scripts = Migrations.load();
            int latest = scripts.get(scripts.size() - 1).version();
            try (Connection c = config.open()) {
                List<Integer> applied = Migrations.migrate(c);
                for (Migrations.Script s : scripts) {
                    if (applied.contains(s.version())) {
                        out.printf("applied V%03d %s%n", s.version(), s.name());
                    }
                }
                out.printf("%s is at V%03d (%s)%n", config.url(), latest,
                        applied.isEmpty() ? "nothing to apply" : applied.size() + " applied now");
            }
            return 0;
        }
    }
}
