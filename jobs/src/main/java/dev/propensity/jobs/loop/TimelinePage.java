package dev.propensity.jobs.loop;

import dev.propensity.common.table.Warehouse;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;

/**
 * The loop's timeline as text (the console) and as a self-contained HTML page with inline SVG
 * line charts of the matured AUC and of the PSI over the weeks, and the table of decisions.
 */
final class TimelinePage {

  /** The page's name under the warehouse root. */
  static final String FILE = "loop_timeline.html";

  private TimelinePage() {}

  static String text(List<Row> rows) {
    StringBuilder sb = new StringBuilder(String.format("%-10s %-22s %9s %8s %8s %10s %7s %6s"
            + " %-12s %-22s %9s %9s %s%n", "week", "champion", "scored", "max_psi", "score_psi",
        "matured", "auc", "lift", "retrain", "challenger", "chal_auc", "champ_auc", "promoted"));
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "%-10s %-22s %9d %8s %8s %10s %7s %6s %-12s %-22s"
              + " %9s %9s %s%n", String.valueOf((Object) r.getAs("cycle_date")),
          r.getAs("champion_run_id"),
          r.<Long>getAs("scored_customers"), num(r, "max_feature_psi", 3),
          num(r, "score_psi", 3), r.getAs("matured_snapshot") == null ? "-"
              : String.valueOf((Object) r.getAs("matured_snapshot")), num(r, "matured_auc_roc", 4),
          num(r, "matured_top_bin_lift", 2), r.getAs("retrain_reason"),
          r.getAs("challenger_run_id") == null ? "-" : r.getAs("challenger_run_id"),
          num(r, "challenger_metric", 4), num(r, "champion_metric", 4),
          r.getAs("challenger_run_id") == null ? "-" : r.<Boolean>getAs("promoted") ? "yes"
              : "no"));
    }
    return sb.toString();
  }

  private static String num(Row r, String column, int digits) {
    Object v = r.getAs(column);
    return v == null ? "-" : String.format(Locale.ROOT, "%." + digits + "f", (Double) v);
  }

  /** Writes the page under the warehouse root; @return its location */
  static String write(Warehouse warehouse, List<Row> rows, String driftDate) {
    Path file = new Path(warehouse.root(), FILE);
    try {
      FileSystem fs = file.getFileSystem(warehouse.spark().sparkContext().hadoopConfiguration());
      try (OutputStream out = fs.create(file, true)) {
        out.write(html(rows, driftDate).getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file, e);
    }
    return file.toString();
  }

  static String html(List<Row> rows, String driftDate) {
    StringBuilder sb = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
        + "<title>propensity: weekly loop timeline</title><style>body{font-family:sans-serif;"
        + "margin:24px;max-width:1100px}table{border-collapse:collapse;font-size:13px}"
        + "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
        + "th{background:#f0f0f0}svg{border:1px solid #ddd;margin:8px 0}"
        + "@media print{svg{page-break-inside:avoid}}</style></head><body>");
    sb.append("<h1>Weekly loop timeline</h1><p>").append(rows.size()).append(" cycles")
        .append(driftDate.isEmpty() ? "" : "; drift event from " + esc(driftDate))
        .append(". Matured AUC: the AUC of the model that scored a snapshot, once its labels"
            + " arrived. PSI: the new snapshot against the champion's training baseline.</p>");
    sb.append("<h2 id=\"auc\">Matured-label AUC</h2>")
        .append(chart("auc-chart", rows, List.of(new Series("AUC-ROC", "#1f77b4",
            r -> (Double) r.getAs("matured_auc_roc")))));
    sb.append("<h2 id=\"psi\">Drift (PSI)</h2>")
        .append(chart("psi-chart", rows, List.of(
            new Series("max feature PSI", "#d62728", r -> (Double) r.getAs("max_feature_psi")),
            new Series("score PSI", "#2ca02c", r -> (Double) r.getAs("score_psi")))));
    sb.append("<h2 id=\"decisions\">Cycles</h2><table><tr>");
    String[] cols = {"cycle_date", "champion_run_id", "scored_customers", "max_feature_psi",
        "max_psi_feature", "score_psi", "matured_snapshot", "matured_auc_roc",
        "matured_top_bin_lift", "retrain_reason", "challenger_run_id", "challenger_metric",
        "champion_metric", "promoted"};
    for (String c : cols) {
      sb.append("<th>").append(c).append("</th>");
    }
    sb.append("</tr>");
    for (Row r : rows) {
      sb.append("<tr>");
      for (String c : cols) {
        Object v = r.getAs(c);
        sb.append("<td>").append(v == null ? "" : v instanceof Double d
            ? String.format(Locale.ROOT, "%.4f", d) : esc(v.toString())).append("</td>");
      }
      sb.append("</tr>");
    }
    return sb.append("</table></body></html>").toString();
  }

  private record Series(String name, String color, Function<Row, Double> value) {}

  /** A line chart, one point per cycle; missing values break the line. */
  private static String chart(String id, List<Row> rows, List<Series> series) {
    int w = 900;
    int h = 260;
    int left = 60;
    int bottom = 40;
    double maxV = 0;
    for (Series s : series) {
      for (Row r : rows) {
        Double v = s.value().apply(r);
        if (v != null) {
          maxV = Math.max(maxV, v);
        }
      }
    }
    double top = maxV <= 0 ? 1 : maxV * 1.1;
    int n = Math.max(rows.size(), 2);
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
        "<svg id=\"%s\" width=\"%d\" height=\"%d\""
            + " viewBox=\"0 0 %d %d\">", id, w, h, w, h));
    sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\""
        + " stroke=\"#000\"/>", left, h - bottom, w - 10, h - bottom));
    for (int t = 0; t <= 4; t++) {
      double v = top * t / 4;
      double y = h - bottom - (h - bottom - 10) * t / 4.0;
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\""
          + " text-anchor=\"end\">%.3f</text>", left - 4, y + 4, v));
    }
    for (int i = 0; i < rows.size(); i++) {
      double x = left + (w - left - 20) * i / (double) (n - 1);
      sb.append(String.format(Locale.ROOT, "<text class=\"week\" x=\"%.1f\" y=\"%d\""
          + " font-size=\"11\" text-anchor=\"middle\">%s</text>", x, h - bottom + 16,
          esc(String.valueOf((Object) rows.get(i).getAs("cycle_date")))));
    }
    int legend = 0;
    for (Series s : series) {
      List<String> points = new ArrayList<>();
      StringBuilder lines = new StringBuilder();
      for (int i = 0; i < rows.size(); i++) {
        Double v = s.value().apply(rows.get(i));
        if (v == null) {
          flush(lines, points, s.color());
          continue;
        }
        double x = left + (w - left - 20) * i / (double) (n - 1);
        double y = h - bottom - (h - bottom - 10) * v / top;
        points.add(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
        lines.append(String.format(Locale.ROOT, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\""
            + " r=\"3\" fill=\"%s\"><title>%s %.4f</title></circle>", x, y, s.color(),
            esc(s.name()), v));
      }
      flush(lines, points, s.color());
      sb.append(lines);
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\""
          + " fill=\"%s\">%s</text>", left + 10 + legend * 180, 14, s.color(), esc(s.name())));
      legend++;
    }
    return sb.append("</svg>").toString();
  }

  private static void flush(StringBuilder out, List<String> points, String color) {
    if (points.size() > 1) {
      out.append("<polyline class=\"line\" fill=\"none\" stroke=\"").append(color)
          .append("\" stroke-width=\"2\" points=\"").append(String.join(" ", points))
          .append("\"/>");
    }
    points.clear();
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
