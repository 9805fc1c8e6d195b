package dev.mempipe.cli.profile;

import dev.mempipe.core.profile.Units;
import dev.mempipe.spi.Step;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report's two charts as inline SVG (no script, no external resource, so the HTML file stands alone):
 * a 100%-stacked bar per context length of a workload, which makes the memory-processing share of a decode
 * step visible at a glance, and a log-log roofline.
 *
 * <p>Stateless; the SVG omits the {@code xmlns} attribute, which an HTML5 document does not need.
 */
final class Charts {
    /** One color per segment: the four steps in pipeline order, then the rest of the decode step. */
    static final Map<String, String> COLORS = new LinkedHashMap<>();

    static {
        COLORS.put("prepare", "#4e79a7");
        COLORS.put("relevancy", "#f28e2b");
        COLORS.put("retrieval", "#59a14f");
        COLORS.put("apply", "#e15759");
        COLORS.put("other (projections, MLP)", "#bab0ac");
    }

    private static final String FONT = "font-family=\"system-ui, sans-serif\"";

    private Charts() {
    }

    // ---- stacked bars ----

    /**
     * The rows of one workload as horizontal 100%-stacked bars, one per context length: the four steps and
     * the non-memory rest of the decode step, each segment with a tooltip of its time and share, and the
     * decode step's time and memory share written beside the bar.
     */
    static String stackedBars(String workload, List<ProfileRow> rows) {
        int left = 64;
        int barWidth = 520;
        int barHeight = 24;
        int gap = 12;
        int legendHeight = 28;
        int width = left + barWidth + 250;
        int height = legendHeight + rows.size() * (barHeight + gap) + 8;
        StringBuilder s = new StringBuilder();
        s.append("<svg class=\"chart bars\" viewBox=\"0 0 ").append(width).append(' ').append(height)
                .append("\" width=\"").append(width).append("\" height=\"").append(height)
                .append("\" role=\"img\" aria-label=\"").append(Html.esc("time per decode step of " + workload))
                .append("\">\n");
        legend(s, left, 16, true);
        int y = legendHeight;
        for (ProfileRow r : rows) {
            double[] parts = segments(r);
            double total = 0;
            for (double p : parts) {
                total += p;
            }
            s.append("<text x=\"").append(left - 8).append("\" y=\"").append(y + barHeight / 2 + 5)
                    .append("\" text-anchor=\"end\" ").append(FONT).append(" font-size=\"13\">")
                    .append(Html.esc(Progress.contextLabel(r.contextLength()))).append("</text>\n");
            double x = left;
            List<String> names = List.copyOf(COLORS.keySet());
            for (int i = 0; i < parts.length; i++) {
                if (parts[i] <= 0 || total <= 0) {
                    continue;
                }
                double w = barWidth * parts[i] / total;
                s.append("<rect x=\"").append(fmt(x)).append("\" y=\"").append(y).append("\" width=\"").append(fmt(w))
                        .append("\" height=\"").append(barHeight).append("\" fill=\"").append(COLORS.get(names.get(i)))
                        .append("\"><title>").append(Html.esc(names.get(i) + ": " + Units.seconds(parts[i]) + " ("
                                + ProfileTable.percent(parts[i] / total) + " of the decode step)"))
                        .append("</title></rect>\n");
                x += w;
            }
            if (total <= 0) {
                s.append("<rect x=\"").append(left).append("\" y=\"").append(y).append("\" width=\"").append(barWidth)
                        .append("\" height=\"").append(barHeight).append("\" fill=\"none\" stroke=\"#999\" ")
                        .append("stroke-dasharray=\"4 3\"><title>no time measured</title></rect>\n");
            }
            s.append("<text x=\"").append(left + barWidth + 8).append("\" y=\"").append(y + barHeight / 2 + 5)
                    .append("\" ").append(FONT).append(" font-size=\"12\">")
                    .append(Html.esc(Units.seconds(r.decodeStepSeconds()) + " per step, memory "
                            + ProfileTable.percent(r.memoryShare())))
                    .append("</text>\n");
            y += barHeight + gap;
        }
        return s.append("</svg>\n").toString();
    }

    /** The seconds of each segment in {@link #COLORS} order; absent steps are 0. */
    static double[] segments(ProfileRow r) {
        double[] parts = new double[COLORS.size()];
        int i = 0;
        for (Step step : Step.values()) {
            StepStats st = r.steps().get(step);
            parts[i++] = st == null ? 0 : st.seconds();
        }
        parts[i] = r.otherSeconds();
        return parts;
    }

    /** The color key; the roofline has no "other" segment, so it leaves that entry out. */
    private static void legend(StringBuilder s, int x0, int y, boolean withOther) {
        int x = x0;
        for (Map.Entry<String, String> e : COLORS.entrySet()) {
            if (!withOther && e.getKey().startsWith("other")) {
                continue;
            }
            s.append("<rect x=\"").append(x).append("\" y=\"").append(y - 10).append("\" width=\"12\" height=\"12\" ")
                    .append("fill=\"").append(e.getValue()).append("\"/>");
            s.append("<text x=\"").append(x + 16).append("\" y=\"").append(y).append("\" ").append(FONT)
                    .append(" font-size=\"12\">").append(Html.esc(e.getKey())).append("</text>\n");
            x += 16 + 7 * e.getKey().length() + 18;
        }
    }

    // ---- roofline ----

    /** One roofline point: a workload's step, summed over the context lengths measured. */
    record Point(String workload, Step step, double intensity, double flopsPerSecond, String contexts) {
    }

    /**
     * The points of the roofline: per workload and step, total FLOPs over total bytes and over total time of
     * every context length measured. Steps with no FLOPs, no bytes or no time have no place on log axes; they
     * are returned in {@code unplotted} with the reason.
     */
    static List<Point> points(ProfileRun run, List<String> unplotted) {
        Map<String, Map<Step, double[]>> sums = new LinkedHashMap<>();
        Map<String, List<String>> contexts = new LinkedHashMap<>();
        for (ProfileRow r : run.rows()) {
            contexts.computeIfAbsent(r.workload(), w -> new ArrayList<>()).add(Progress.contextLabel(r.contextLength()));
            r.steps().forEach((step, st) -> {
                double[] sum = sums.computeIfAbsent(r.workload(), w -> new LinkedHashMap<>())
                        .computeIfAbsent(step, k -> new double[3]);
                sum[0] += st.flops();
                sum[1] += st.bytesRead() + st.bytesWritten();
                sum[2] += st.seconds();
            });
        }
        List<Point> points = new ArrayList<>();
        sums.forEach((workload, steps) -> steps.forEach((step, sum) -> {
            String name = workload + " " + ProfileTable.stepName(step);
            if (sum[0] <= 0) {
                unplotted.add(name + " (no FLOPs counted)");
            } else if (sum[1] <= 0) {
                unplotted.add(name + " (no bytes counted)");
            } else if (sum[2] <= 0) {
                unplotted.add(name + " (no time measured)");
            } else {
                points.add(new Point(workload, step, sum[0] / sum[1], sum[0] / sum[2],
                        String.join(", ", contexts.get(workload))));
            }
        }));
        return points;
    }

    /**
     * A log-log roofline: arithmetic intensity (FLOP/B) across, achieved FLOP/s up; the roofs
     * {@code min(peak, bandwidth * intensity)} with the ridge point marked; one labelled dot per point, colored
     * by step.
     */
    static String roofline(ProfileRun run, List<Point> points) {
        int left = 78;
        int top = 34;
        int plotW = 560;
        int plotH = 360;
        int width = left + plotW + 150;
        int height = top + plotH + 56;
        double peak = run.peakFlops();
        double bw = run.bandwidthBytesPerSecond();
        boolean roofs = peak > 0 && bw > 0 && Double.isFinite(peak) && Double.isFinite(bw);
        double ridge = run.ridgePoint();

        double xMin = Double.POSITIVE_INFINITY;
        double xMax = Double.NEGATIVE_INFINITY;
        double yMin = Double.POSITIVE_INFINITY;
        double yMax = Double.NEGATIVE_INFINITY;
        for (Point p : points) {
            xMin = Math.min(xMin, p.intensity());
            xMax = Math.max(xMax, p.intensity());
            yMin = Math.min(yMin, p.flopsPerSecond());
            yMax = Math.max(yMax, p.flopsPerSecond());
        }
        if (roofs) {
            xMin = Math.min(xMin, ridge / 10);
            xMax = Math.max(xMax, ridge * 10);
            yMax = Math.max(yMax, peak);
            yMin = Math.min(yMin, bw * xMin);
        }
        if (!(xMin < Double.POSITIVE_INFINITY)) {
            xMin = 0.01;
            xMax = 100;
            yMin = 1e6;
            yMax = 1e12;
        }
        // a quarter decade of margin so that no dot or roof sits on the frame, and at least one whole decade
        // inside, so that the grid has labels
        double[] xr = range(xMin, xMax);
        double[] yr = range(yMin, yMax);
        double lx0 = xr[0];
        double lx1 = xr[1];
        double ly0 = yr[0];
        double ly1 = yr[1];
        Scale sx = new Scale(lx0, lx1, left, left + plotW);
        Scale sy = new Scale(ly0, ly1, top + plotH, top);

        StringBuilder s = new StringBuilder();
        s.append("<svg class=\"chart roofline\" viewBox=\"0 0 ").append(width).append(' ').append(height)
                .append("\" width=\"").append(width).append("\" height=\"").append(height)
                .append("\" role=\"img\" aria-label=\"roofline: achieved FLOP/s against arithmetic intensity\">\n");
        legend(s, left, 16, false);
        s.append("<rect x=\"").append(left).append("\" y=\"").append(top).append("\" width=\"").append(plotW)
                .append("\" height=\"").append(plotH).append("\" fill=\"#fff\" stroke=\"#888\"/>\n");
        for (double d = Math.ceil(lx0); d <= lx1; d++) {
            double x = sx.at(Math.pow(10, d));
            s.append("<line x1=\"").append(fmt(x)).append("\" y1=\"").append(top).append("\" x2=\"").append(fmt(x))
                    .append("\" y2=\"").append(top + plotH).append("\" stroke=\"#e4e4e4\"/>");
            s.append("<text x=\"").append(fmt(x)).append("\" y=\"").append(top + plotH + 18)
                    .append("\" text-anchor=\"middle\" ").append(FONT).append(" font-size=\"11\">")
                    .append(Html.esc(si(Math.pow(10, d)))).append("</text>\n");
        }
        for (double d = Math.ceil(ly0); d <= ly1; d++) {
            double y = sy.at(Math.pow(10, d));
            s.append("<line x1=\"").append(left).append("\" y1=\"").append(fmt(y)).append("\" x2=\"")
                    .append(left + plotW).append("\" y2=\"").append(fmt(y)).append("\" stroke=\"#e4e4e4\"/>");
            s.append("<text x=\"").append(left - 6).append("\" y=\"").append(fmt(y + 4))
                    .append("\" text-anchor=\"end\" ").append(FONT).append(" font-size=\"11\">")
                    .append(Html.esc(si(Math.pow(10, d)))).append("</text>\n");
        }
        s.append("<text x=\"").append(left + plotW / 2).append("\" y=\"").append(top + plotH + 40)
                .append("\" text-anchor=\"middle\" ").append(FONT)
                .append(" font-size=\"13\">arithmetic intensity (FLOP/byte)</text>\n");
        s.append("<text transform=\"translate(18 ").append(top + plotH / 2).append(") rotate(-90)\" ")
                .append("text-anchor=\"middle\" ").append(FONT).append(" font-size=\"13\">achieved FLOP/s</text>\n");

        if (roofs) {
            double x0 = Math.pow(10, lx0);
            double x1 = Math.pow(10, lx1);
            double xRidge = Math.min(Math.max(ridge, x0), x1);
            double yStart = Math.max(bw * x0, Math.pow(10, ly0));
            double xStart = yStart / bw;
            s.append("<polyline fill=\"none\" stroke=\"#222\" stroke-width=\"2\" points=\"")
                    .append(fmt(sx.at(xStart))).append(',').append(fmt(sy.at(yStart))).append(' ')
                    .append(fmt(sx.at(xRidge))).append(',').append(fmt(sy.at(Math.min(peak, bw * xRidge)))).append(' ')
                    .append(fmt(sx.at(x1))).append(',').append(fmt(sy.at(peak))).append("\"><title>")
                    .append(Html.esc("roofs: min(" + Units.rate(peak, "FLOP") + ", " + Units.rate(bw, "B")
                            + " x intensity)")).append("</title></polyline>\n");
            double rx = sx.at(ridge);
            if (rx >= left && rx <= left + plotW) {
                s.append("<line x1=\"").append(fmt(rx)).append("\" y1=\"").append(top).append("\" x2=\"").append(fmt(rx))
                        .append("\" y2=\"").append(top + plotH).append("\" stroke=\"#222\" stroke-dasharray=\"3 4\"/>");
                s.append("<text x=\"").append(fmt(rx + 4)).append("\" y=\"").append(top + plotH - 6).append("\" ")
                        .append(FONT).append(" font-size=\"11\">")
                        .append(Html.esc("ridge " + ProfileTable.number(ridge) + " FLOP/B")).append("</text>\n");
            }
            s.append("<text x=\"").append(fmt(sx.at(x1) - 4)).append("\" y=\"").append(fmt(sy.at(peak) - 6))
                    .append("\" text-anchor=\"end\" ").append(FONT).append(" font-size=\"11\">")
                    .append(Html.esc("peak " + Units.rate(peak, "FLOP"))).append("</text>\n");
            // written along the slanted roof, a little above it, a fifth of the way up
            double ax = sx.at(xStart) + 0.2 * (sx.at(xRidge) - sx.at(xStart));
            double ay = sy.at(yStart) + 0.2 * (sy.at(Math.min(peak, bw * xRidge)) - sy.at(yStart));
            double angle = Math.toDegrees(Math.atan2(sy.at(Math.min(peak, bw * xRidge)) - sy.at(yStart),
                    sx.at(xRidge) - sx.at(xStart)));
            s.append("<text transform=\"translate(").append(fmt(ax)).append(' ').append(fmt(ay - 9)).append(") rotate(")
                    .append(fmt(angle)).append(")\" ").append(FONT).append(" font-size=\"11\">")
                    .append(Html.esc("bandwidth " + Units.rate(bw, "B"))).append("</text>\n");
        } else {
            s.append("<text x=\"").append(left + 10).append("\" y=\"").append(top + 20).append("\" ").append(FONT)
                    .append(" font-size=\"12\">roofs unknown: no peak FLOP/s or bandwidth</text>\n");
        }

        // dots of the same step that would cover each other become one dot with both workloads in its label
        List<Dot> dots = new ArrayList<>();
        for (Point p : points) {
            double x = sx.at(p.intensity());
            double y = sy.at(p.flopsPerSecond());
            Dot same = dots.stream().filter(d -> d.step == p.step() && Math.hypot(d.x - x, d.y - y) < 4)
                    .findFirst().orElse(null);
            if (same == null) {
                dots.add(new Dot(p.step(), x, y, new ArrayList<>(List.of(p))));
            } else {
                same.points.add(p);
            }
        }
        List<double[]> taken = new ArrayList<>();
        for (Dot d : dots) {
            taken.add(new double[] {d.x - 5, d.y - 5, d.x + 5, d.y + 5});
        }
        List<String> stepNames = List.copyOf(COLORS.keySet());
        for (Dot d : dots) {
            String color = COLORS.get(stepNames.get(d.step.ordinal()));
            StringBuilder tip = new StringBuilder();
            for (Point p : d.points) {
                tip.append(tip.isEmpty() ? "" : "; ").append(p.workload()).append(' ')
                        .append(ProfileTable.stepName(p.step())).append(": ").append(ProfileTable.number(p.intensity()))
                        .append(" FLOP/B, ").append(Units.rate(p.flopsPerSecond(), "FLOP")).append(" (contexts ")
                        .append(p.contexts()).append(')');
            }
            s.append("<circle cx=\"").append(fmt(d.x)).append("\" cy=\"").append(fmt(d.y)).append("\" r=\"5\" fill=\"")
                    .append(color).append("\" stroke=\"#222\" stroke-width=\"0.8\"><title>")
                    .append(Html.esc(tip.toString())).append("</title></circle>");
            String label = String.join(", ", d.points.stream().map(Point::workload).toList()) + " "
                    + ProfileTable.stepName(d.step);
            double[] at = placeLabel(d.x, d.y, label.length() * 5.6, taken, left + plotW + 140);
            s.append("<text x=\"").append(fmt(at[0])).append("\" y=\"").append(fmt(at[1])).append("\" ").append(FONT)
                    .append(" font-size=\"10\">").append(Html.esc(label)).append("</text>\n");
        }
        return s.append("</svg>\n").toString();
    }

    /** A dot of the roofline: the points it stands for share a step and (nearly) a position. */
    private record Dot(Step step, double x, double y, List<Point> points) {
    }

    /**
     * Where a label of {@code width} pixels goes beside the dot at (x, y): the first of a few spots around it
     * that overlaps no dot and no label placed before (right, below, above, left, then further out), or the
     * first spot when all overlap. The chosen box is added to {@code taken}.
     */
    private static double[] placeLabel(double x, double y, double width, List<double[]> taken, double maxRight) {
        double[][] offsets = {{7, 4}, {7, 15}, {7, -7}, {-7 - width, 4}, {-7 - width, 15}, {-7 - width, -7},
                {7, 26}, {7, -18}, {-width / 2, 19}, {-width / 2, -11}};
        double[] first = null;
        for (double[] o : offsets) {
            double[] box = {x + o[0], y + o[1] - 9, x + o[0] + width, y + o[1] + 2};
            if (box[2] > maxRight) {
                continue;
            }
            if (first == null) {
                first = box;
            }
            boolean free = taken.stream().noneMatch(t -> box[0] < t[2] && t[0] < box[2] && box[1] < t[3] && t[1] < box[3]);
            if (free) {
                taken.add(box);
                return new double[] {box[0], box[3] - 2};
            }
        }
        double[] box = first != null ? first : new double[] {x + 7, y - 5, x + 7 + width, y + 6};
        taken.add(box);
        return new double[] {box[0], box[3] - 2};
    }

    /** A log10 axis range around [min, max] with a quarter decade of margin and at least one whole decade inside. */
    private static double[] range(double min, double max) {
        double lo = Math.log10(min) - 0.25;
        double hi = Math.log10(max) + 0.25;
        if (Math.floor(hi) < Math.ceil(lo)) {
            lo = Math.floor(lo);
            hi = Math.ceil(hi);
        }
        return new double[] {lo, hi};
    }

    /** Maps values on a log10 axis from decades [d0, d1] to pixels [p0, p1]. */
    private record Scale(double d0, double d1, double p0, double p1) {
        double at(double value) {
            return p0 + (Math.log10(value) - d0) / (d1 - d0) * (p1 - p0);
        }
    }

    /** A power of ten with an SI prefix for axis labels: {@code 0.01}, {@code 1}, {@code 10k}, {@code 1G}. */
    static String si(double value) {
        String[] prefixes = {"", "k", "M", "G", "T", "P", "E"};
        if (value < 1000) {
            return value >= 1 ? String.format(Locale.ROOT, "%.0f", value) : String.format(Locale.ROOT, "%s",
                    stripZeros(value));
        }
        int p = 0;
        double v = value;
        while (v >= 1000 && p < prefixes.length - 1) {
            v /= 1000;
            p++;
        }
        return String.format(Locale.ROOT, "%.0f%s", v, prefixes[p]);
    }

    private static String stripZeros(double value) {
        return java.math.BigDecimal.valueOf(value).round(new java.math.MathContext(1)).stripTrailingZeros()
                .toPlainString();
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
