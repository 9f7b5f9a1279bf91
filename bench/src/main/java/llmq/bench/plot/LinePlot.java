package llmq.bench.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A line plot written as a PNG with java.awt alone (headless): title, labelled axes with ticks and
 * grid, a linear or logarithmic y axis, solid or dashed series with point markers, horizontal
 * reference lines, and a legend. Made for latency-over-time charts; no plotting library needed.
 */
public final class LinePlot {

    /** A named line through {@code points} ({x, y} pairs, x ascending). */
    public record Series(String name, Color color, boolean dashed, List<double[]> points) {
        public Series {
            points = List.copyOf(points);
        }
    }

    /** A horizontal line at {@code y}, labelled in the legend. */
    public record Reference(String name, Color color, double y) {
    }

    private static final Color GRID = new Color(0xE3E3E3);
    private static final Color AXIS = new Color(0x333333);
    private static final int LEFT = 96;
    private static final int RIGHT = 36;
    private static final int TOP = 64;
    private static final int BOTTOM = 72;

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final boolean logY;
    private final int width;
    private final int height;
    private final List<Series> series = new ArrayList<>();
    private final List<Reference> references = new ArrayList<>();

    public LinePlot(String title, String xLabel, String yLabel, boolean logY, int width, int height) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.logY = logY;
        this.width = width;
        this.height = height;
    }

    public LinePlot add(Series s) {
        series.add(s);
        return this;
    }

    public LinePlot reference(Reference r) {
        references.add(r);
        return this;
    }

    /** Renders and writes the PNG (creating its directory). */
    public void write(Path png) throws IOException {
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        if (!ImageIO.write(render(), "png", png.toFile())) {
            throw new IOException("no PNG writer in this JDK");
        }
    }

    /** Draws the plot. */
    public BufferedImage render() {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            draw(g);
        } finally {
            g.dispose();
        }
        return image;
    }

    private void draw(Graphics2D g) {
        double[] xr = xRange();
        double[] yr = yRange();
        Font tickFontForLegend = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        int legendWidth = legendWidth(g.getFontMetrics(tickFontForLegend));
        // the legend sits to the right of the plot area, where it can hide no data
        int pw = width - LEFT - RIGHT - (legendWidth > 0 ? legendWidth + 16 : 0);
        int ph = height - TOP - BOTTOM;
        Scale sx = new Scale(xr[0], xr[1], false, LEFT, LEFT + pw);
        Scale sy = new Scale(yr[0], yr[1], logY, TOP + ph, TOP);

        Font tickFont = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        Font labelFont = new Font(Font.SANS_SERIF, Font.PLAIN, 14);
        Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 17);

        // grid and ticks
        g.setFont(tickFont);
        FontMetrics fm = g.getFontMetrics();
        for (double t : Ticks.linear(xr[0], xr[1], 10)) {
            int x = sx.px(t);
            g.setColor(GRID);
            g.drawLine(x, TOP, x, TOP + ph);
            g.setColor(AXIS);
            g.drawLine(x, TOP + ph, x, TOP + ph + 5);
            String s = Ticks.format(t);
            g.drawString(s, x - fm.stringWidth(s) / 2, TOP + ph + 8 + fm.getAscent());
        }
        List<Double> yTicks = logY ? Ticks.logarithmic(yr[0], yr[1]) : Ticks.linear(yr[0], yr[1], 8);
        for (double t : yTicks) {
            int y = sy.px(t);
            g.setColor(GRID);
            g.drawLine(LEFT, y, LEFT + pw, y);
            g.setColor(AXIS);
            g.drawLine(LEFT - 5, y, LEFT, y);
            String s = Ticks.format(t);
            g.drawString(s, LEFT - 8 - fm.stringWidth(s), y + fm.getAscent() / 2 - 1);
        }
        g.setColor(AXIS);
        g.drawRect(LEFT, TOP, pw, ph);

        // axis labels and title
        g.setFont(labelFont);
        fm = g.getFontMetrics();
        g.drawString(xLabel, LEFT + (pw - fm.stringWidth(xLabel)) / 2, height - 22);
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2);
        g.drawString(yLabel, -(TOP + (ph + fm.stringWidth(yLabel)) / 2), 24);
        g.setTransform(saved);
        g.setFont(titleFont);
        fm = g.getFontMetrics();
        g.drawString(title, (width - fm.stringWidth(title)) / 2, 34);

        // reference lines, then series, clipped to the plot area
        g.setClip(LEFT + 1, TOP + 1, pw - 1, ph - 1);
        Stroke solid = new BasicStroke(2.2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
        Stroke dashed = new BasicStroke(2.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {9f, 6f}, 0f);
        Stroke thin = new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {3f, 4f}, 0f);
        for (Reference r : references) {
            if (plottable(r.y())) {
                g.setColor(r.color());
                g.setStroke(thin);
                int y = sy.px(r.y());
                g.drawLine(LEFT, y, LEFT + pw, y);
            }
        }
        for (Series s : series) {
            g.setColor(s.color());
            g.setStroke(s.dashed() ? dashed : solid);
            Path2D.Double path = new Path2D.Double();
            boolean started = false;
            for (double[] p : s.points()) {
                if (!plottable(p[1])) {
                    started = false;
                    continue;
                }
                if (started) {
                    path.lineTo(sx.px(p[0]), sy.px(p[1]));
                } else {
                    path.moveTo(sx.px(p[0]), sy.px(p[1]));
                    started = true;
                }
            }
            g.draw(path);
            for (double[] p : s.points()) {
                if (plottable(p[1])) {
                    g.fillOval(sx.px(p[0]) - 3, sy.px(p[1]) - 3, 7, 7);
                }
            }
        }
        g.setClip(null);
        legend(g, tickFont, solid, dashed, thin, LEFT + pw + 16, TOP);
    }

    private int legendWidth(FontMetrics fm) {
        int text = 0;
        for (Series s : series) {
            text = Math.max(text, fm.stringWidth(s.name()));
        }
        for (Reference r : references) {
            text = Math.max(text, fm.stringWidth(r.name()));
        }
        return series.isEmpty() && references.isEmpty() ? 0 : 12 + 36 + 8 + text + 12;
    }

    private void legend(Graphics2D g, Font font, Stroke solid, Stroke dashed, Stroke thin, int x0, int y0) {
        g.setFont(font);
        FontMetrics fm = g.getFontMetrics();
        List<String> names = new ArrayList<>();
        series.forEach(s -> names.add(s.name()));
        references.forEach(r -> names.add(r.name()));
        if (names.isEmpty()) {
            return;
        }
        int line = fm.getHeight() + 4;
        int textWidth = names.stream().mapToInt(fm::stringWidth).max().orElse(0);
        int w = 12 + 36 + 8 + textWidth + 12;
        int h = 10 + line * names.size() + 4;
        g.setColor(new Color(255, 255, 255, 230));
        g.fillRect(x0, y0, w, h);
        g.setColor(new Color(0x999999));
        g.setStroke(new BasicStroke(1f));
        g.drawRect(x0, y0, w, h);
        int y = y0 + 8 + fm.getAscent();
        for (Series s : series) {
            g.setColor(s.color());
            g.setStroke(s.dashed() ? dashed : solid);
            int mid = y - fm.getAscent() / 2 + 1;
            g.drawLine(x0 + 12, mid, x0 + 48, mid);
            g.fillOval(x0 + 27, mid - 3, 7, 7);
            g.setColor(AXIS);
            g.drawString(s.name(), x0 + 56, y);
            y += line;
        }
        for (Reference r : references) {
            g.setColor(r.color());
            g.setStroke(thin);
            int mid = y - fm.getAscent() / 2 + 1;
            g.drawLine(x0 + 12, mid, x0 + 48, mid);
            g.setColor(AXIS);
            g.drawString(r.name(), x0 + 56, y);
            y += line;
        }
    }

    private boolean plottable(double y) {
        return !Double.isNaN(y) && !Double.isInfinite(y) && (!logY || y > 0);
    }

    private double[] xRange() {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double[] p : s.points()) {
                lo = Math.min(lo, p[0]);
                hi = Math.max(hi, p[0]);
            }
        }
        if (lo == Double.POSITIVE_INFINITY) {
            return new double[] {0, 1};
        }
        lo = Math.min(lo, 0);
        // a little room after the last point, so it is not drawn on the frame
        return hi > lo ? new double[] {lo, hi + (hi - lo) * 0.03} : new double[] {lo, lo + 1};
    }

    private double[] yRange() {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double[] p : s.points()) {
                if (plottable(p[1])) {
                    lo = Math.min(lo, p[1]);
                    hi = Math.max(hi, p[1]);
                }
            }
        }
        for (Reference r : references) {
            if (plottable(r.y())) {
                lo = Math.min(lo, r.y());
                hi = Math.max(hi, r.y());
            }
        }
        if (lo == Double.POSITIVE_INFINITY) {
            return logY ? new double[] {1, 10} : new double[] {0, 1};
        }
        if (logY) {
            return new double[] {Math.pow(10, Math.floor(Math.log10(lo))), Math.pow(10, Math.ceil(Math.log10(hi * 1.0001)))};
        }
        double step = Ticks.step(0, hi * 1.05, 8);
        return new double[] {Math.min(0, lo), Math.max(step, Math.ceil(hi * 1.05 / step) * step)};
    }

    /** Maps data values to pixels. */
    private record Scale(double lo, double hi, boolean log, int p0, int p1) {
        int px(double v) {
            double f = log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo);
            return (int) Math.round(p0 + f * (p1 - p0));
        }
    }

    /** Tick positions and labels. */
    static final class Ticks {

        private Ticks() {
        }

        /** A 1, 2 or 5 × 10^k step giving about {@code count} ticks over [lo, hi]. */
        static double step(double lo, double hi, int count) {
            double raw = (hi - lo) / Math.max(1, count);
            if (raw <= 0) {
                return 1;
            }
            double mag = Math.pow(10, Math.floor(Math.log10(raw)));
            double f = raw / mag;
            return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
        }

        static List<Double> linear(double lo, double hi, int count) {
            double step = step(lo, hi, count);
            List<Double> out = new ArrayList<>();
            for (double t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
                out.add(Math.abs(t) < step * 1e-9 ? 0.0 : t);
            }
            return out;
        }

        /** 1, 2, 5 per decade when the range spans at most three decades, else decades only. */
        static List<Double> logarithmic(double lo, double hi) {
            List<Double> out = new ArrayList<>();
            int from = (int) Math.floor(Math.log10(lo));
            int to = (int) Math.ceil(Math.log10(hi));
            double[] mantissas = to - from <= 3 ? new double[] {1, 2, 5} : new double[] {1};
            for (int d = from; d <= to; d++) {
                for (double m : mantissas) {
                    double v = m * Math.pow(10, d);
                    if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) {
                        out.add(v);
                    }
                }
            }
            return out;
        }

        static String format(double v) {
            if (v == Math.rint(v) && Math.abs(v) < 1e15) {
                return String.format(Locale.ROOT, "%,d", (long) v).replace(',', ' ');
            }
            return String.format(Locale.ROOT, "%.3g", v).replaceAll("\\.?0+$", "");
        }
    }
}
