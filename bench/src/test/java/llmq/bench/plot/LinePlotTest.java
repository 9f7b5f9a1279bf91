package llmq.bench.plot;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinePlotTest {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    @Test
    void shouldWriteAReadablePngWithEverySeriesDrawnInItsColour(@TempDir Path dir) throws Exception {
        Color red = new Color(0xd62728);
        Color blue = new Color(0x1f77b4);
        LinePlot plot = new LinePlot("latency", "seconds", "ms", true, 800, 500)
                .add(new LinePlot.Series("p99", red, false, List.of(new double[] {0, 40}, new double[] {5, 60}, new double[] {10, 45})))
                .add(new LinePlot.Series("p50", blue, true, List.of(new double[] {0, 10}, new double[] {10, 12})))
                .reference(new LinePlot.Reference("floor", Color.GRAY, 35));
        Path png = dir.resolve("sub").resolve("plot.png");
        plot.write(png);
        BufferedImage read = ImageIO.read(png.toFile());
        assertThat(read.getWidth()).isEqualTo(800);
        assertThat(read.getHeight()).isEqualTo(500);
        assertThat(count(read, red.getRGB())).isGreaterThan(50);
        assertThat(count(read, blue.getRGB())).isGreaterThan(20);
    }

    @Test
    void shouldDrawAnEmptyPlotWithoutFailing() {
        BufferedImage image = new LinePlot("nothing", "x", "y", true, 300, 200).render();
        assertThat(image.getWidth()).isEqualTo(300);
    }

    @Test
    void shouldSkipValuesALogAxisCannotShow() {
        BufferedImage image = new LinePlot("t", "x", "y", true, 300, 200)
                .add(new LinePlot.Series("s", Color.RED, false, List.of(new double[] {0, 0}, new double[] {1, Double.NaN},
                        new double[] {2, 5}))).render();
        assertThat(image).isNotNull();
    }

    @Test
    void shouldPickOneTwoFiveTicks() {
        assertThat(LinePlot.Ticks.step(0, 10, 10)).isEqualTo(1.0);
        assertThat(LinePlot.Ticks.step(0, 15, 10)).isEqualTo(2.0);
        assertThat(LinePlot.Ticks.step(0, 3000, 8)).isEqualTo(500.0);
        assertThat(LinePlot.Ticks.linear(0, 4, 4)).containsExactly(0.0, 1.0, 2.0, 3.0, 4.0);
        assertThat(LinePlot.Ticks.logarithmic(10, 1000)).containsExactly(10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0);
        assertThat(LinePlot.Ticks.logarithmic(1, 100_000)).containsExactly(1.0, 10.0, 100.0, 1000.0, 10_000.0, 100_000.0);
        assertThat(LinePlot.Ticks.format(20_000)).isEqualTo("20 000");
        assertThat(LinePlot.Ticks.format(0.5)).isEqualTo("0.5");
    }

    private static int count(BufferedImage image, int rgb) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xffffff) == (rgb & 0xffffff)) {
                    n++;
                }
            }
        }
        return n;
    }
}
