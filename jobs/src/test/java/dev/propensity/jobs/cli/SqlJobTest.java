package dev.propensity.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code sql} through the command line: read-only by default, never config, errors exit 2. */
class SqlJobTest extends SparkTestBase {

  private static Path warehouse;

  @BeforeAll
  static void table() {
    warehouse = tempWarehouse("sql");
    spark().range(10).selectExpr("cast(id as string) as customer_id", "id % 2 as a", "1 as b")
        .write().format("delta").save(warehouse.resolve("customer_propensity").toString());
  }

  /** Runs Main and returns exit code, stdout and stderr. */
  private static String[] run(String... args) {
    String[] full = new String[args.length + 1];
    full[0] = "sql";
    System.arraycopy(args, 0, full, 1, args.length);
    String[] withWh = java.util.Arrays.copyOf(full, full.length + 1);
    withWh[full.length] = "warehouse=\"" + warehouse + "\"";
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      code = Main.run(withWh);
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    return new String[] {String.valueOf(code), o.toString(StandardCharsets.UTF_8),
        e.toString(StandardCharsets.UTF_8)};
  }

  private static long rows() {
    return spark().read().format("delta").load(warehouse.resolve("customer_propensity")
        .toString()).count();
  }

  @Test
  void writesAreRefusedThroughTheViewAndThroughTheDeltaPath() {
    for (String statement : new String[] {"DELETE FROM customer_propensity WHERE a = 1",
        "DELETE FROM delta.`" + warehouse.resolve("customer_propensity") + "` WHERE a = 1",
        "UPDATE customer_propensity SET b = 2 WHERE a = 0",
        "INSERT INTO delta.`" + warehouse.resolve("customer_propensity") + "` VALUES ('x', 1, 1)",
        "SELECT 1; DROP TABLE customer_propensity", "CREATE VIEW v AS SELECT 1"}) {
      String[] r = run(statement);
      assertThat(r[0]).as(statement).isEqualTo("2");
      assertThat(r[2]).as(statement).startsWith("ERROR: Refused: '")
          .contains("--allow-writes").doesNotContain("\tat ");
    }
    assertThat(rows()).isEqualTo(10);
  }

  @Test
  void queriesWithEqualsSignsRunAndAreNeverReadAsConfig() {
    String[] r = run("CREATE TEMPORARY VIEW v AS SELECT * FROM customer_propensity WHERE a = 1;"
        + " SELECT count(*) AS n FROM v", "--csv");
    assertThat(r[0]).as(r[2]).isEqualTo("0");
    assertThat(r[1]).isEqualTo("n\n5\n");
    assertThat(run("WITH x AS (SELECT * FROM customer_propensity WHERE b = 1)"
        + " SELECT count(*) FROM x")[0]).isEqualTo("0");
    assertThat(run("DESCRIBE HISTORY delta.`" + warehouse.resolve("customer_propensity") + "`")[0])
        .isEqualTo("0");
    assertThat(run("SHOW TABLES")[0]).isEqualTo("0");
    assertThat(run("EXPLAIN SELECT * FROM customer_propensity WHERE a = 0")[0]).isEqualTo("0");
  }

  @Test
  void analysisAndParseErrorsExit2WithSparksMessageAndNoTrace() {
    String[] r = run("SELECT * FROM customer_propensty");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).startsWith("ERROR: Invalid SQL or table: ")
        .contains("TABLE_OR_VIEW_NOT_FOUND").contains("customer_propensty")
        .doesNotContain("\tat ");
    String[] p = run("SELEC 1");
    assertThat(p[0]).isEqualTo("2");
    assertThat(p[2]).contains("PARSE_SYNTAX_ERROR").doesNotContain("\tat ");
  }

  @Test
  void allowWritesRunsAWrite() {
    spark().range(4).selectExpr("cast(id as string) as customer_id", "id % 2 as a", "1 as b")
        .write().format("delta").save(warehouse.resolve("scratch").toString());
    String[] r = run("DELETE FROM delta.`" + warehouse.resolve("scratch") + "` WHERE a = 1",
        "--allow-writes");
    assertThat(r[0]).as(r[2]).isEqualTo("0");
    assertThat(spark().read().format("delta").load(warehouse.resolve("scratch").toString())
        .count()).isEqualTo(2);
  }

  @Test
  void isReadOnlyClassifiesParsedPlans() {
    var parser = spark().sessionState().sqlParser();
    assertThat(SqlJob.isReadOnly(parse(parser, "SELECT a FROM t WHERE a = 1"))).isTrue();
    assertThat(SqlJob.isReadOnly(parse(parser,
        "CREATE TEMPORARY VIEW f USING csv OPTIONS (path '/tmp/x.csv', header 'true')"))).isTrue();
    assertThat(SqlJob.isReadOnly(parse(parser, "MERGE INTO t USING s ON t.a = s.a"
        + " WHEN MATCHED THEN DELETE"))).isFalse();
    assertThat(SqlJob.isReadOnly(parse(parser, "VACUUM t"))).isFalse();
    assertThat(SqlJob.isReadOnly(parse(parser, "OPTIMIZE t"))).isFalse();
    assertThat(SqlJob.isReadOnly(parse(parser, "SET spark.sql.shuffle.partitions=3"))).isFalse();
  }

  private static org.apache.spark.sql.catalyst.plans.logical.LogicalPlan parse(
      org.apache.spark.sql.catalyst.parser.ParserInterface parser, String sql) {
    try {
      return parser.parsePlan(sql);
    } catch (Exception e) {
      throw new AssertionError(sql, e);
    }
  }
}
