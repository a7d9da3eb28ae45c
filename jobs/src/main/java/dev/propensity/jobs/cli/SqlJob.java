package dev.propensity.jobs.cli;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.analysis.PersistedView$;
import org.apache.spark.sql.catalyst.parser.ParseException;
import org.apache.spark.sql.catalyst.plans.logical.Command;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.command.CreateViewCommand;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Spark SQL over the warehouse: every Delta table under the root is a temporary view of the same
 * name. Statements are separated by {@code ;}; the last one's result is printed as a table or CSV.
 *
 * <p>Read-only unless {@code propensity.sql.allow-writes} ({@code --allow-writes}): every
 * statement is parsed first, and one that is not a query ({@code SELECT}, {@code WITH}, {@code
 * SHOW}, {@code DESCRIBE}, {@code EXPLAIN}, or a temporary view over a query or files) is refused
 * before anything runs, whether it names a view or {@code delta.`path`}.
 */
public final class SqlJob implements Job {

  @Override
  public String name() {
    return "sql";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    String query = config.string("propensity.sql.query");
    String format = config.oneOf("propensity.sql.format", List.of("table", "csv"));
    int maxRows = config.integer("propensity.sql.max-rows");
    List<String> statements = split(query);
    if (statements.isEmpty()) {
      throw Errors.invalidConfig("propensity.sql.query", query,
          "one or more SQL statements, e.g. ./submit.sh sql \"SELECT * FROM leaderboard\"");
    }
    if (!config.bool("propensity.sql.allow-writes")) {
      for (String statement : statements) {
        LogicalPlan plan;
        try {
          plan = spark.sessionState().sqlParser().parsePlan(statement);
        } catch (ParseException e) {
          throw Errors.analysis(e);
        }
        if (!isReadOnly(plan)) {
          throw Errors.writeStatement(statement);
        }
      }
    }
    Warehouse warehouse = Warehouse.of(spark, config);
    for (String table : warehouse.tables()) {
      warehouse.read(table).createOrReplaceTempView(table);
    }
    Dataset<Row> last = null;
    for (String statement : statements) {
      last = spark.sql(statement);
    }
    if ("csv".equals(format)) {
      System.out.print(toCsv(last, maxRows));
      System.out.flush();
    } else {
      last.show(maxRows, false);
    }
    return "";
  }

  /**
   * @return whether a parsed statement only reads: no command node other than SHOW, DESCRIBE,
   *     EXPLAIN and temporary views, and no parsed write statement (INSERT) anywhere in the tree
   */
  static boolean isReadOnly(LogicalPlan plan) {
    String name = plan.getClass().getSimpleName();
    if (plan instanceof Command) {
      if (name.startsWith("Show") || name.startsWith("Describe") || name.equals("ExplainCommand")
          || name.equals("CreateTempViewUsing")) {
        return true;
      }
      if (plan instanceof CreateViewCommand view) {
        return view.viewType() != PersistedView$.MODULE$ && isReadOnly(view.plan());
      }
      return false;
    }
    if (name.endsWith("Statement")) { // InsertIntoStatement and other parsed writes
      return false;
    }
    for (LogicalPlan child : CollectionConverters.asJava(plan.children())) {
      if (!isReadOnly(child)) {
        return false;
      }
    }
    return true;
  }

  /** Splits on semicolons outside quotes and comments-free SQL; blank statements dropped. */
  static List<String> split(String sql) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    char quote = 0;
    for (char ch : sql.toCharArray()) {
      if (quote != 0) {
        if (ch == quote) {
          quote = 0;
        }
      } else if (ch == '\'' || ch == '"' || ch == '`') {
        quote = ch;
      } else if (ch == ';') {
        add(out, cur);
        continue;
      }
      cur.append(ch);
    }
    add(out, cur);
    return out;
  }

  private static void add(List<String> out, StringBuilder cur) {
    if (!cur.toString().isBlank()) {
      out.add(cur.toString().trim());
    }
    cur.setLength(0);
  }

  static String toCsv(Dataset<Row> df, int maxRows) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.join(",", List.of(df.columns()).stream().map(SqlJob::csvField).toList()))
        .append('\n');
    for (Row r : df.limit(maxRows).collectAsList()) {
      List<String> fields = new ArrayList<>();
      for (int i = 0; i < r.size(); i++) {
        fields.add(r.isNullAt(i) ? "" : csvField(String.valueOf(r.get(i))));
      }
      sb.append(String.join(",", fields)).append('\n');
    }
    return sb.toString();
  }

  private static String csvField(String v) {
    return v.contains(",") || v.contains("\"") || v.contains("\n")
        ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
  }
}
