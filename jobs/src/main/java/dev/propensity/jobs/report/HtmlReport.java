package dev.propensity.jobs.report;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructField;

/** Builds the self-contained report page: inline CSS, charts as PNG data URIs, no scripts. */
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
        + "th{background:#f3f3f3}figure{display:inline-block;margin:0.5em}"
        + "</style></head>\n<body>\n<h1>" + escape(title) + "</h1>\n" + body
        + "</body></html>\n";
  }

  private static String format(Object v) {
    if (v == null) {
      return "";
    }
    if (v instanceof Double d) {
      return String.format(Locale.ROOT, "%.4f", d);
    }
    return String.valueOf(v);
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
