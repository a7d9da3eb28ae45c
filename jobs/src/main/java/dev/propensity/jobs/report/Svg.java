package dev.propensity.jobs.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Charts drawn as inline SVG: horizontal bars, the SHAP beeswarm and scatter plots. Hand-written
 * because XChart has neither horizontal bars nor a beeswarm; SVG text stays sharp when printed
 * and can be read back by tests (one {@code text.category} per {@code rect.bar}).
 */
final class Svg {

  /** The report's chart width in CSS pixels; a scatter is half of it. */
  static final int WIDTH = 760;
  static final int HALF = 376;

  private static final int ROW = 22;
  private static final int CHAR = 7; // upper bound of a 12px sans-serif character's advance
  private static final String FONT = "font-family=\"system-ui,sans-serif\" font-size=\"12\"";

  /** One point of a beeswarm row: the contribution and the value's colour position (0..1). */
  record Swarm(String feature, double[] contribution, double[] shade) {}

  private Svg() {}

  /**
   * Horizontal bars, one per category, top to bottom in the given order, each with its name on
   * the left and its value at the bar's end. Names too long for 45% of the width are cut with an
   * ellipsis; the full name is the label's tooltip.
   */
  static String hbars(String name, String title, String valueTitle, List<String> categories,
      List<Double> values, String format) {
    int n = categories.size();
    int left = labelWidth(categories);
    int right = 70;
    int top = 28;
    int height = top + n * ROW + 34;
    // an undefined value (NaN, e.g. a lift of an empty bin) gets no bar and reads "n/a"
    double min = Math.min(0, values.stream().mapToDouble(Double::doubleValue)
        .filter(Double::isFinite).min().orElse(0));
    double max = Math.max(0, values.stream().mapToDouble(Double::doubleValue)
        .filter(Double::isFinite).max().orElse(1));
    if (max == min) {
      max = min + 1;
    }
    // negative bars keep room on their left for their value label
    Scale x = new Scale(min, max, min < 0 ? left + 62 : left, WIDTH - right);
    StringBuilder s = open(name, title, WIDTH, height, "horizontal");
    double zero = x.at(0);
    for (int i = 0; i < n; i++) {
      double v = Double.isFinite(values.get(i)) ? values.get(i) : 0;
      String label = Double.isFinite(values.get(i)) ? String.format(Locale.ROOT, format, v)
          : "n/a";
      double y = top + i * ROW;
      double x0 = Math.min(zero, x.at(v));
      double w = Math.max(Math.abs(x.at(v) - zero), 0.5);
      s.append(String.format(Locale.ROOT, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\""
          + " height=\"%d\" fill=\"#4e79a7\"/>%n", x0, y + 3, w, ROW - 6));
      s.append(String.format(Locale.ROOT, "<text class=\"category\" x=\"%d\" y=\"%.1f\""
          + " text-anchor=\"end\" %s><title>%s</title>%s</text>%n", left - 6, y + ROW / 2.0 + 4,
          FONT, esc(categories.get(i)), esc(cut(categories.get(i), (left - 12) / CHAR))));
      boolean neg = v < 0;
      s.append(String.format(Locale.ROOT, "<text class=\"value\" x=\"%.1f\" y=\"%.1f\""
          + " text-anchor=\"%s\" %s>%s</text>%n", neg ? x0 - 4 : x0 + w + 4, y + ROW / 2.0 + 4,
          neg ? "end" : "start", FONT, esc(label)));
    }
    line(s, zero, top, zero, top + n * ROW, "#333");
    axis(s, x, top + n * ROW, valueTitle);
    return s.append("</svg>\n").toString();
  }

  /**
   * The SHAP summary: one row per feature, each customer a dot at its contribution, coloured
   * from blue (low value of the feature) to red (high); grey when the value is missing or not a
   * number. Dots that would overlap are stacked up and down within the row.
   */
  static String beeswarm(String name, String title, List<Swarm> rows) {
    List<String> names = rows.stream().map(Swarm::feature).toList();
    int left = labelWidth(names);
    int rowH = 30;
    int top = 28;
    int height = top + rows.size() * rowH + 54;
    double min = 0;
    double max = 0;
    for (Swarm r : rows) {
      for (double c : r.contribution()) {
        min = Math.min(min, c);
        max = Math.max(max, c);
      }
    }
    if (max == min) {
      max = min + 1e-6;
    }
    Scale x = new Scale(min, max, left, WIDTH - 20);
    StringBuilder s = open(name, title, WIDTH, height, "horizontal");
    for (int i = 0; i < rows.size(); i++) {
      Swarm r = rows.get(i);
      double mid = top + i * rowH + rowH / 2.0;
      s.append(String.format(Locale.ROOT, "<text class=\"category\" x=\"%d\" y=\"%.1f\""
          + " text-anchor=\"end\" %s><title>%s</title>%s</text>%n", left - 6, mid + 4, FONT,
          esc(r.feature()), esc(cut(r.feature(), (left - 12) / CHAR))));
      line(s, left, mid, WIDTH - 20, mid, "#eee");
      int buckets = (int) (WIDTH / 3.0) + 1;
      int[] used = new int[buckets];
      for (int j = 0; j < r.contribution().length; j++) {
        double px = x.at(r.contribution()[j]);
        int b = Math.max(0, Math.min(buckets - 1, (int) (px / 3)));
        int k = used[b]++;
        double dy = ((k % 2 == 0) ? 1 : -1) * Math.ceil(k / 2.0) * 2.2;
        dy = Math.max(-rowH / 2.0 + 2, Math.min(rowH / 2.0 - 2, dy));
        s.append(String.format(Locale.ROOT, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\""
            + " r=\"2.2\" fill=\"%s\"/>%n", px, mid + dy, colour(r.shade()[j])));
      }
    }
    int bottom = top + rows.size() * rowH;
    line(s, x.at(0), top, x.at(0), bottom, "#333");
    axis(s, x, bottom, "SHAP contribution to the propensity");
    s.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"%d\" %s fill=\"#555\">colour:"
        + " the customer's value of the feature,</text><text x=\"290\" y=\"%d\" %s"
        + " fill=\"%s\">low</text><text x=\"320\" y=\"%d\" %s fill=\"%s\">to high;</text>"
        + "<text x=\"380\" y=\"%d\" %s fill=\"#999\">grey: missing or categorical</text>%n",
        height - 6, FONT, height - 6, FONT, colour(0), height - 6, FONT, colour(1), height - 6,
        FONT));
    return s.append("</svg>\n").toString();
  }

  /** A scatter plot at half the report's width (two side by side), e.g. a dependence plot. */
  static String scatter(String name, String title, String xTitle, String yTitle, double[] xs,
      double[] ys) {
    int height = 300;
    int left = 58;
    int top = 28;
    int bottom = height - 44;
    Scale x = Scale.of(xs, left, HALF - 12);
    Scale y = Scale.of(ys, bottom, top);
    StringBuilder s = open(name, title, HALF, height, "scatter");
    line(s, left, y.at(0), HALF - 12, y.at(0), "#bbb");
    for (int i = 0; i < xs.length; i++) {
      s.append(String.format(Locale.ROOT, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\""
          + " fill=\"#4e79a7\" fill-opacity=\"0.6\"/>%n", x.at(xs[i]), y.at(ys[i])));
    }
    axis(s, x, bottom, xTitle);
    line(s, left, top, left, bottom, "#333");
    for (double t : y.ticks()) {
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" %s>%s"
          + "</text>%n", left - 4, y.at(t) + 4, FONT, num(t)));
    }
    s.append(String.format(Locale.ROOT, "<text x=\"12\" y=\"%.1f\" %s text-anchor=\"middle\""
        + " transform=\"rotate(-90 12 %.1f)\">%s</text>%n", (top + bottom) / 2.0, FONT,
        (top + bottom) / 2.0, esc(yTitle)));
    return s.append("</svg>\n").toString();
  }

  private static StringBuilder open(String name, String title, int w, int h, String kind) {
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "<svg class=\"chart\""
        + " data-chart=\"%s\" data-kind=\"%s\" role=\"img\" width=\"%d\" height=\"%d\""
        + " viewBox=\"0 0 %d %d\"><title>%s</title>%n", esc(name), kind, w, h, w, h, esc(title)));
    s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
        + "<text x=\"%d\" y=\"18\" text-anchor=\"middle\" font-family=\"system-ui,sans-serif\""
        + " font-size=\"14\" font-weight=\"bold\">%s</text>%n", w, h, w / 2, esc(title)));
    return s;
  }

  private static void axis(StringBuilder s, Scale x, double y, String title) {
    line(s, x.from(), y, x.to(), y, "#333");
    for (double t : x.ticks()) {
      line(s, x.at(t), y, x.at(t), y + 4, "#333");
      s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\""
          + " %s>%s</text>%n", x.at(t), y + 16, FONT, num(t)));
    }
    s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" %s>"
        + "%s</text>%n", (x.from() + x.to()) / 2, y + 31, FONT, esc(title)));
  }

  private static void line(StringBuilder s, double x1, double y1, double x2, double y2,
      String colour) {
    s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\""
        + " stroke=\"%s\"/>%n", x1, y1, x2, y2, colour));
  }

  /** @return the left margin that fits the longest label, at most 45% of the width */
  private static int labelWidth(List<String> labels) {
    int longest = labels.stream().mapToInt(String::length).max().orElse(4);
    return Math.min((int) (WIDTH * 0.45), 14 + longest * CHAR);
  }

  static String cut(String s, int chars) {
    return s.length() <= chars ? s : s.substring(0, Math.max(1, chars - 1)) + "\u2026";
  }

  /** Blue (0) to red (1) through light grey; grey for NaN. */
  static String colour(double t) {
    if (Double.isNaN(t)) {
      return "#999999";
    }
    t = Math.max(0, Math.min(1, t));
    int r = (int) Math.round(t < 0.5 ? 30 + t * 2 * 170 : 200 + (t - 0.5) * 2 * 30);
    int g = (int) Math.round(t < 0.5 ? 110 + t * 2 * 60 : 170 - (t - 0.5) * 2 * 140);
    int b = (int) Math.round(t < 0.5 ? 230 - t * 2 * 30 : 200 - (t - 0.5) * 2 * 170);
    return String.format("#%02x%02x%02x", r, g, b);
  }

  static String num(double v) {
    if (v == 0) {
      return "0";
    }
    return Math.abs(v) >= 1000 || Math.abs(v) < 0.001
        ? String.format(Locale.ROOT, "%.2g", v) : String.format(Locale.ROOT, "%.3g", v);
  }

  static String esc(String s) {
    return HtmlReport.escape(s == null ? "" : s);
  }

  /** A linear map from data to pixels, with five ticks. */
  private record Scale(double min, double max, double from, double to) {

    static Scale of(double[] v, double from, double to) {
      double lo = Double.POSITIVE_INFINITY;
      double hi = Double.NEGATIVE_INFINITY;
      for (double d : v) {
        if (!Double.isNaN(d)) {
          lo = Math.min(lo, d);
          hi = Math.max(hi, d);
        }
      }
      if (lo == Double.POSITIVE_INFINITY) {
        lo = 0;
        hi = 1;
      }
      if (hi == lo) {
        lo -= 0.5;
        hi += 0.5;
      }
      double pad = (hi - lo) * 0.04;
      return new Scale(lo - pad, hi + pad, from, to);
    }

    double at(double v) {
      return from + (v - min) / (max - min) * (to - from);
    }

    List<Double> ticks() {
      List<Double> t = new ArrayList<>();
      for (int i = 0; i <= 4; i++) {
        t.add(min + (max - min) * i / 4);
      }
      return t;
    }
  }
}
