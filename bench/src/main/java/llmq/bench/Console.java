package llmq.bench;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * While open, what this JVM prints on standard output and standard error also goes to a file: one
 * scenario's console ({@code bench/target/bench-logs/<scenario>.out}) when the suite runs them all in
 * one JVM.
 */
final class Console implements AutoCloseable {

    private final PrintStream out;
    private final PrintStream err;
    private final OutputStream file;

    private Console(PrintStream out, PrintStream err, OutputStream file) {
        this.out = out;
        this.err = err;
        this.file = file;
    }

    /** From now on, standard output and error are copied to {@code path} (rewritten) until {@link #close()}. */
    static Console teeTo(Path path) throws IOException {
        OutputStream file = new FileOutputStream(path.toFile(), false);
        PrintStream out = System.out;
        PrintStream err = System.err;
        System.setOut(new PrintStream(new Tee(out, file), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new Tee(err, file), true, StandardCharsets.UTF_8));
        return new Console(out, err, file);
    }

    @Override
    public void close() throws IOException {
        System.out.flush();
        System.err.flush();
        System.setOut(out);
        System.setErr(err);
        file.close();
    }

    /** Writes to both streams; the file's writes are serialised, as two threads may print at once. */
    private static final class Tee extends OutputStream {
        private final OutputStream console;
        private final OutputStream file;

        Tee(OutputStream console, OutputStream file) {
            this.console = console;
            this.file = file;
        }

        @Override
        public void write(int b) throws IOException {
            console.write(b);
            synchronized (file) {
                file.write(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            console.write(b, off, len);
            synchronized (file) {
                file.write(b, off, len);
            }
        }

        @Override
        public void flush() throws IOException {
            console.flush();
            synchronized (file) {
                file.flush();
            }
        }
    }
}
