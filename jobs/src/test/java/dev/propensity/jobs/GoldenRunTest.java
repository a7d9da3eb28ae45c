package dev.propensity.jobs;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.cli.PipelineJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.Test;

/**
 * Behaviour pinned across refactorings: the same seed on the same input gives the same
 * leaderboard and the same scores (to 1e-12) as the values recorded in
 * {@code golden/runs.json} before the model layer was introduced: logistic regression, GBT and a
 * random forest, stacked, Platt-calibrated, scored with reason codes. {@code
 * -Dgolden.write=true} re-records (only after a deliberate change of behaviour).
 */
class GoldenRunTest extends SparkTestBase {

  private static final Path GOLDEN = Path.of("src/test/resources/golden/runs.json");
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT);
  private static final int SCORES = 50;

  @Test
  void theSameSeedGivesTheRecordedLeaderboardAndScores() throws IOException {
    Path dir = tempWarehouse("golden");
    JobConfig base = JobConfig.defaults().with("warehouse=\"" + dir + "\"",
        "generate.customers=1000", "train.cv.num-folds=2", "train.time-budget-seconds=0",
        "train.logistic.reg-param=[0.01]", "train.logistic.elastic-net-param=[0.0]",
        "train.logistic.max-iter=50",
        "train.random-forest.num-trees=[8]", "train.random-forest.max-depth=[4]",
        "train.gbt.max-depth=[3]", "train.gbt.max-iter=10",
        "select.importance-rows=200", "explain.top-k=3");
    Map<String, Object> actual = new LinkedHashMap<>();
    new PipelineJob().run(spark(), base.with(
        "pipeline.steps=[generate, features, train, select, bins, promote, score]",
        "train.run-id=golden", "train.candidates=[logistic, gbt, random-forest]",
        "select.top-n=3", "select.combine=stacking", "select.calibration=platt"));
    actual.put("golden", record(dir, base, "golden"));

    if (Boolean.getBoolean("golden.write")) {
      Files.createDirectories(GOLDEN.getParent());
      JSON.writeValue(GOLDEN.toFile(), actual);
    }
    Map<String, Object> expected = JSON.readValue(GOLDEN.toFile(), new TypeReference<>() {});
    compare("", JSON.convertValue(actual, new TypeReference<Map<String, Object>>() {}),
        expected);
  }

  private static Map<String, Object> record(Path dir, JobConfig base, String runId) {
    Warehouse wh = Warehouse.of(spark(), base);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("leaderboard", rows(wh.read(Tables.LEADERBOARD)
        .where(col("run_id").equalTo(runId)).drop("run_id", "fit_seconds", "created_at")
        .orderBy("candidate")));
    out.put("scores", rows(wh.read(Tables.CUSTOMER_SCORES)
        .where(col("run_id").equalTo(runId)).orderBy("snapshot_date", "customer_id")
        .limit(SCORES)));
    return out;
  }

  /** Rows as name -> value maps; timestamps are left out (they are wall-clock times). */
  /**
   * A cell as JSON-able numbers, strings, lists and maps, so every number in it (a voter's
   * probability, a reason code's contribution) is compared to 1e-12, not as text: a sum over
   * Spark partitions may add in another order and move the last digits.
   */
  private static Object plain(Object v) {
    if (v instanceof Number || v instanceof Boolean || v == null) {
      return v;
    }
    if (v instanceof scala.collection.Map<?, ?> map) {
      Map<String, Object> out = new java.util.TreeMap<>();
      scala.jdk.javaapi.CollectionConverters.asJava(map)
          .forEach((k, x) -> out.put(String.valueOf((Object) k), plain(x)));
      return out;
    }
    if (v instanceof scala.collection.Seq<?> seq) {
      List<Object> out = new ArrayList<>();
      scala.jdk.javaapi.CollectionConverters.asJava(seq).forEach(x -> out.add(plain(x)));
      return out;
    }
    if (v instanceof Row row) {
      List<Object> out = new ArrayList<>();
      for (int i = 0; i < row.size(); i++) {
        out.add(plain(row.get(i)));
      }
      return out;
    }
    return String.valueOf(v);
  }

  private static List<Map<String, Object>> rows(Dataset<Row> df) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Row r : df.collectAsList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (StructField f : df.schema().fields()) {
        if (f.dataType() == DataTypes.TimestampType) {
          continue;
        }
        m.put(f.name(), plain(r.getAs(f.name())));
      }
      out.add(m);
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static void compare(String where, Object actual, Object expected) {
    if (expected instanceof Map<?, ?> e) {
      Map<String, Object> a = (Map<String, Object>) actual;
      assertThat(a.keySet()).as(where).isEqualTo(e.keySet());
      e.forEach((k, v) -> compare(where + "/" + k, a.get(k), v));
    } else if (expected instanceof List<?> e) {
      List<Object> a = (List<Object>) actual;
      assertThat(a).as(where).hasSameSizeAs(e);
      for (int i = 0; i < e.size(); i++) {
        compare(where + "[" + i + "]", a.get(i), e.get(i));
      }
    } else if (expected instanceof String e && actual instanceof Double a) {
      assertThat(a).as(where).isEqualTo(Double.valueOf(e)); // NaN and infinities
    } else if (expected instanceof Double e) {
      assertThat(((Number) actual).doubleValue()).as(where).isCloseTo(e, within(1e-12));
    } else {
      assertThat(actual).as(where).isEqualTo(expected);
    }
  }

  static {
    try {
      Files.createDirectories(GOLDEN.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
