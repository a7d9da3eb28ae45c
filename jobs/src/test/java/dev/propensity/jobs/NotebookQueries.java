package dev.propensity.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the notebooks' query cells: the tables the setup cell registers ({@code TABLES = [...]})
 * and every {@code spark.sql("""...""")} (or f-string) with the {@code {NAME}} fields it formats in.
 */
final class NotebookQueries {

  /** One query cell: its SQL and the names of its {@code {PARAMETERS}} (Python f-string fields). */
  record Query(String notebook, int cell, String sql, List<String> parameters) {}

  /** A notebook's tables and queries. */
  record Notebook(String name, List<String> tables, List<Query> queries, int codeCells) {}

  private static final Pattern SQL = Pattern.compile("spark\\.sql\\(f?\"\"\"(.*?)\"\"\"",
      Pattern.DOTALL);
  private static final Pattern PARAM = Pattern.compile("\\{([A-Z_][A-Z0-9_]*)}");
  private static final Pattern TABLES = Pattern.compile("TABLES = \\[(.*?)]", Pattern.DOTALL);

  private NotebookQueries() {}

  static List<Notebook> read(File dir) throws IOException {
    List<Notebook> out = new ArrayList<>();
    File[] files = dir.listFiles((d, n) -> n.endsWith(".ipynb"));
    if (files == null) {
      return out;
    }
    java.util.Arrays.sort(files);
    for (File f : files) {
      JsonNode nb = new ObjectMapper().readTree(f);
      List<String> tables = new ArrayList<>();
      List<Query> queries = new ArrayList<>();
      int index = 0;
      int code = 0;
      for (JsonNode cell : nb.get("cells")) {
        index++;
        if (!"code".equals(cell.get("cell_type").asText())) {
          continue;
        }
        code++;
        StringBuilder src = new StringBuilder();
        cell.get("source").forEach(line -> src.append(line.asText()));
        Matcher t = TABLES.matcher(src);
        if (t.find()) {
          for (String name : t.group(1).split(",")) {
            tables.add(name.trim().replace("\"", ""));
          }
        }
        Matcher q = SQL.matcher(src);
        while (q.find()) {
          String sql = q.group(1);
          List<String> params = new ArrayList<>();
          Matcher p = PARAM.matcher(sql);
          while (p.find()) {
            params.add(p.group(1));
          }
          queries.add(new Query(f.getName(), index, sql, params));
        }
      }
      out.add(new Notebook(f.getName(), tables, queries, code));
    }
    return out;
  }
}
