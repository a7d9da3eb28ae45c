package dev.propensity.jobs.explain;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;

/**
 * Why one customer has this score: the model's base value, then each feature's SHAP contribution
 * as a step (largest first; the smallest ones summed into one step), ending at the customer's
 * explained output. Drawn as a self-contained SVG, for the explain job's pages and the run
 * report. Hand-written SVG: no charting library draws a waterfall.
 *
 * @param customer the customer's id
 * @param base the expected value the steps start from
 * @param output the explained output ({@code base + sum(contributions)})
 * @param space {@code probability} or {@code margin}
 * @param steps the steps, largest magnitude first
 */
public record Waterfall(String customer, double base, double output, String space,
    List<Step> steps) {

  /** One step: a feature (or "other n features"), the customer's value and the contribution. */
  public record Step(String feature, String value, double contribution) {}

  /** How a missing numeric feature value reads in a reason code: Java's text of NaN. */
  public static final String MISSING_NUMBER = "NaN";

  private static final int WIDTH = 760;
  private static final int ROW = 22;
  private static final String FONT = "font-family=\"system-ui,sans-serif\" font-size=\"12\"";

  /**
   * @param customer the customer's id
   * @param base the expected value
   * @param output the explained output
   * @param space the output space
   * @param contributions {@link Explainer#CODE} rows (feature, value, contribution), largest
   *     magnitude first, as {@link Explainer#contributions} writes them
   * @param shown how many features get their own step; the rest are summed into one
   * @return the waterfall
   */
  public static Waterfall of(String customer, double base, double output, String space,
      List<Row> contributions, int shown) {
    List<Step> steps = new ArrayList<>();
    double rest = 0;
    int restCount = 0;
    for (Row c : contributions) {
      if (steps.size() < shown) {
        steps.add(new Step(c.getString(0), c.isNullAt(1) ? null : c.getString(1),
            c.getDouble(2)));
      } else {
        rest += c.getDouble(2);
        restCount++;
      }
    }
    if (restCount > 0) {
      steps.add(new Step("other " + restCount + " features", null, rest));
    }
    return new Waterfall(customer, base, output, space, List.copyOf(steps));
  }

  /** @return where the steps end: the base value plus every contribution */
  public double end() {
    return base + steps.stream().mapToDouble(Step::contribution).sum();
  }

  /** @return the waterfall as an SVG element; {@code data-chart} is {@code name} */
  public String svg(String name) {
    int label = 300;
    int top = 28;
    int n = steps.size() + 2;
    int height = top + n * ROW + 40;
    double lo = Math.min(base, output);
    double hi = Math.max(base, output);
    double run = base;
    for (Step s : steps) {
      run += s.contribution();
      lo = Math.min(lo, run);
      hi = Math.max(hi, run);
    }
    double pad = Math.max((hi - lo) * 0.05, 1e-9);
    double min = lo - pad;
    double max = hi + pad;
    double left = label;
    double right = WIDTH - 80;
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "<svg"
        + " class=\"chart\" data-chart=\"%s\" data-kind=\"waterfall\" data-base=\"%s\""
        + " data-output=\"%s\" role=\"img\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">"
        + "<title>%s</title>%n", esc(name), base, output, WIDTH, height, WIDTH, height,
        esc(title())));
    s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><text"
        + " x=\"%d\" y=\"18\" text-anchor=\"middle\" font-family=\"system-ui,sans-serif\""
        + " font-size=\"14\" font-weight=\"bold\">%s</text>%n", WIDTH, height, WIDTH / 2,
        esc(title())));
    int row = 0;
    row(s, top, row++, "base value (expected " + space + ")", x(base, min, max, left, right),
        x(base, min, max, left, right), num(base), "#555", left, null);
    run = base;
    for (Step st : steps) {
      double from = run;
      run += st.contribution();
      String text = st.value() == null ? st.feature() : st.feature() + " = " + compact(st.value());
      row(s, top, row++, text, x(from, min, max, left, right), x(run, min, max, left, right),
          (st.contribution() >= 0 ? "+" : "") + num(st.contribution()),
          st.contribution() >= 0 ? "#d62728" : "#1f77b4", left, st.contribution());
    }
    row(s, top, row, "customer " + customer + " (" + space + ")", x(output, min, max, left, right),
        x(output, min, max, left, right), num(output), "#000", left, null);
    double y = top + n * ROW;
    s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\""
        + " stroke=\"#333\"/>%n", left, y, right, y));
    for (int i = 0; i <= 4; i++) {
      double v = min + (max - min) * i / 4;
      s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\""
          + " %s>%s</text>%n", x(v, min, max, left, right), y + 16, FONT, num(v)));
    }
    s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" %s>"
        + "%s</text>%n", (left + right) / 2, y + 32, FONT, esc(space)));
    return s.append("</svg>\n").toString();
  }

  /** @return a printable, self-contained HTML page with the waterfall and its numbers */
  public String page(String heading) {
    StringBuilder t = new StringBuilder("<table><tr><th>feature</th><th>value</th>"
        + "<th>contribution</th></tr>\n");
    for (Step st : steps) {
      t.append("<tr><td>").append(esc(st.feature())).append("</td><td>")
          .append(esc(st.value() == null ? "" : MISSING_NUMBER.equals(st.value()) ? "missing"
              : st.value())).append("</td><td>")
          .append(String.format(Locale.ROOT, "%+.6f", st.contribution())).append("</td></tr>\n");
    }
    t.append("</table>\n");
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
        + esc(heading) + "</title><style>body{font-family:system-ui,sans-serif;margin:2em auto;"
        + "max-width:800px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        + "padding:3px 8px}svg{max-width:100%;height:auto}</style></head><body>\n<h1>"
        + esc(heading) + "</h1>\n<p>" + String.format(Locale.ROOT, "Base value %.6f + %d"
        + " contributions = %.6f (%s).", base, steps.size(), end(), esc(space)) + "</p>\n"
        + svg("waterfall-" + customer) + t + "</body></html>\n";
  }

  private String title() {
    return "Why customer " + customer + " has " + space + " " + num(output);
  }

  private static void row(StringBuilder s, int top, int i, String text, double x0, double x1,
      String value, String colour, double left, Double contribution) {
    double y = top + i * ROW;
    double from = Math.min(x0, x1);
    double w = Math.max(Math.abs(x1 - x0), 1.5);
    s.append(String.format(Locale.ROOT, "<text class=\"category\" x=\"%.1f\" y=\"%.1f\""
        + " text-anchor=\"end\" %s><title>%s</title>%s</text>%n", left - 6, y + 15, FONT,
        esc(text), esc(text.length() > 40 ? text.substring(0, 39) + "\u2026" : text)));
    s.append(String.format(Locale.ROOT, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\""
        + " height=\"%d\" fill=\"%s\"%s/>%n", contribution == null ? "total" : "bar", from,
        y + 3, w, ROW - 6, colour, contribution == null ? ""
            : String.format(Locale.ROOT, " data-contribution=\"%s\"", contribution)));
    s.append(String.format(Locale.ROOT, "<text class=\"value\" x=\"%.1f\" y=\"%.1f\" %s>%s"
        + "</text>%n", from + w + 4, y + 15, FONT, esc(value)));
  }

  /**
   * @return a number with at most 4 significant digits ("77.94117647" to "77.94"), "missing" for
   *     a numeric feature's missing value (NaN), else the value as is
   */
  static String compact(String value) {
    if (MISSING_NUMBER.equals(value)) {
      return "missing";
    }
    try {
      return new java.math.BigDecimal(value).round(new java.math.MathContext(4))
          .stripTrailingZeros().toPlainString();
    } catch (NumberFormatException e) {
      return value;
    }
  }

  private static double x(double v, double min, double max, double left, double right) {
    return left + (v - min) / (max - min) * (right - left);
  }

  private static String num(double v) {
    return String.format(Locale.ROOT, "%.4f", v);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
