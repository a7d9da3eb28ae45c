package dev.propensity.jobs.report;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructField;

/**
 * Builds the self-contained report page: inline CSS, charts as inline SVG or PNG data URIs, no
 * scripts, printable.
 */
final class HtmlReport {

  private final StringBuilder body = new StringBuilder();
  private final String title;

  HtmlReport(String title) {
    this.title = title;
  }

  HtmlReport heading(String text) {
    body.append("<h2>").append(escape(text)).append("</h2>\n");
    return this;
  }

  HtmlReport paragraph(String text) {
    body.append("<p>").append(escape(text)).append("</p>\n");
    return this;
  }

  /** Adds a chart image; {@code name} goes in {@code data-chart} so tests can find it. */
  HtmlReport chart(String name, String dataUri) {
    body.append("<figure><img class=\"chart\" data-chart=\"").append(escape(name))
        .append("\" alt=\"").append(escape(name)).append("\" width=\"").append(Charts.WIDTH)
        .append("\" height=\"").append(Charts.HEIGHT).append("\" src=\"").append(dataUri)
        .append("\"></figure>\n");
    return this;
  }

  /** Adds an inline SVG chart (it carries its own {@code data-chart}). */
  HtmlReport svg(String svg) {
    body.append("<figure>").append(svg).append("</figure>\n");
    return this;
  }

  /** Adds trusted markup built by the report itself (e.g. a coloured table). */
  HtmlReport raw(String html) {
    body.append(html).append('\n');
    return this;
  }

  /**
   * Adds a table of numbers with each cell shaded by its value (red above 0, blue below), e.g.
   * mean contributions per group; {@code data-table} is {@code name}.
   *
   * @param rows row name to column to value; the {@code ""} column, when present, is a count
   *     shown unshaded as {@code countTitle}
   */
  HtmlReport heatTable(String name, String rowTitle, String countTitle,
      Map<String, Map<String, Double>> rows, List<String> columns) {
    double scale = rows.values().stream().flatMap(m -> m.entrySet().stream())
        .filter(e -> !e.getKey().isEmpty()).mapToDouble(e -> Math.abs(e.getValue())).max()
        .orElse(1);
    body.append("<table data-table=\"").append(escape(name)).append("\"><thead><tr><th>")
        .append(escape(rowTitle)).append("</th><th>").append(escape(countTitle)).append("</th>");
    columns.forEach(c -> body.append("<th>").append(escape(c)).append("</th>"));
    body.append("</tr></thead><tbody>\n");
    rows.forEach((row, values) -> {
      body.append("<tr><th>").append(escape(row)).append("</th><td>")
          .append(String.format(Locale.ROOT, "%.0f", values.getOrDefault("", 0.0)))
          .append("</td>");
      for (String c : columns) {
        double v = values.getOrDefault(c, 0.0);
        double t = scale == 0 ? 0 : Math.min(1, Math.abs(v) / scale);
        int fade = (int) Math.round(255 - t * 150);
        String bg = v >= 0 ? String.format("#ff%02x%02x", fade, fade)
            : String.format("#%02x%02xff", fade, fade);
        body.append("<td class=\"heat\" style=\"background:").append(bg).append("\">")
            .append(String.format(Locale.ROOT, "%+.4f", v)).append("</td>");
      }
      body.append("</tr>\n");
    });
    body.append("</tbody></table>\n");
    return this;
  }

  /** Adds a table of Spark rows (already small: collected by the caller). */
  HtmlReport table(StructField[] fields, List<Row> rows) {
    body.append("<table><thead><tr>");
    for (StructField f : fields) {
      body.append("<th>").append(escape(f.name())).append("</th>");
    }
    body.append("</tr></thead><tbody>\n");
    for (Row r : rows) {
      body.append("<tr>");
      for (int i = 0; i < r.size(); i++) {
        body.append("<td>").append(escape(format(r.get(i)))).append("</td>");
      }
      body.append("</tr>\n");
    }
    body.append("</tbody></table>\n");
    return this;
  }

  /** Adds a table of maps (e.g. bin statistics from JSON), columns in the first map's order. */
  HtmlReport table(List<Map<String, Object>> rows) {
    if (rows.isEmpty()) {
      return this;
    }
    body.append("<table><thead><tr>");
    rows.get(0).keySet().forEach(k -> body.append("<th>").append(escape(k)).append("</th>"));
    body.append("</tr></thead><tbody>\n");
    for (Map<String, Object> r : rows) {
      body.append("<tr>");
      r.values().forEach(v -> body.append("<td>").append(escape(format(v))).append("</td>"));
      body.append("</tr>\n");
    }
    body.append("</tbody></table>\n");
    return this;
  }

  String render() {
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        + "<title>" + escape(title) + "</title>\n<style>"
        + "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;color:#222}"
        + "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
        + "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        + "th{background:#f3f3f3}figure{display:inline-block;margin:0.5em;vertical-align:top}"
        + "svg.chart,img.chart{max-width:100%;height:auto}"
        + "td.heat{color:#000}table[data-table] th{max-width:9em;overflow-wrap:anywhere}"
        + "@media print{body{margin:0;max-width:none}h2{break-before:auto;break-after:avoid}"
        + "figure,table{break-inside:avoid}}"
        + "</style></head>\n<body>\n<h1>" + escape(title) + "</h1>\n" + body
        + "</body></html>\n";
  }

  private static String format(Object v) {
    if (v == null) {
      return "";
    }
    if (v instanceof Double d) {
      return Double.isFinite(d) ? String.format(Locale.ROOT, "%.4f", d) : "n/a";
    }
    return String.valueOf(v);
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
