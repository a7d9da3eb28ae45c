package dev.propensity.jobs.inference;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_date;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.common.table.Warehouse.WhenMissing;
import dev.propensity.jobs.FeatureInput;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.bins.BinColumns;
import dev.propensity.jobs.selection.Ensemble;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores one feature snapshot with a completed run and publishes it: {@code customer_scores}
 * (history; the snapshot's partition replaced) and {@code customer_propensity} (the current
 * lookup table, one row per customer, upserted with MERGE).
 */
public final class ScoreJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(ScoreJob.class);

  /** What to do with lookup rows of customers missing from the new snapshot. */
  public static final List<String> MISSING = List.of("keep", "delete");

  @Override
  public String name() {
    return "score";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    String missing = config.oneOf("propensity.score.missing-customers", MISSING);
    Warehouse warehouse = Warehouse.of(spark, config);
    ModelRuns runs = new ModelRuns(warehouse.root(), spark.sparkContext().hadoopConfiguration());
    ModelRun run = runs.open(config.string("propensity.score.run"));
    BinColumns bins = BinColumns.load(run);
    Ensemble ensemble = Ensemble.load(run);
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    FeatureInput input = FeatureInput.forScoring(warehouse, schema,
        config.string("propensity.score.snapshot"));
    // every check runs before any table is touched
    long rows = schema.forTable(warehouse.path(schema.table()))
        .validate(input.rows(), FeatureSchema.Mode.SCORING);
    String snapshot = input.snapshot()
        .orElse(LocalDate.now(ZoneOffset.UTC).toString());

    Column propensity = col("propensity");
    Dataset<Row> scored = ensemble.score(input.rows().select(schema.inputColumns().stream()
            .map(c -> col(c)).toArray(Column[]::new)))
        .select(
            col(schema.idColumn()).cast("string").as("customer_id"),
            propensity,
            bins.bin(propensity).as("bin"),
            col("voter_probabilities"))
        .withColumn("group_label", bins.label(col("bin")))
        .withColumn("run_id", lit(run.id()))
        .withColumn("snapshot_date", to_date(lit(snapshot)))
        .withColumn("scored_at", current_timestamp())
        .select("customer_id", "propensity", "bin", "group_label", "voter_probabilities",
            "run_id", "snapshot_date", "scored_at")
        .persist(StorageLevel.MEMORY_AND_DISK());

    warehouse.overwritePartition(scored, Tables.CUSTOMER_SCORES, "snapshot_date", snapshot);
    warehouse.merge(scored.withColumn("is_stale", lit(false)), Tables.CUSTOMER_PROPENSITY,
        List.of("customer_id"),
        "delete".equals(missing) ? WhenMissing.delete()
            : WhenMissing.set(Map.of("is_stale", "true")));
    scored.unpersist();
    LOG.info("score: {} customers of snapshot {} scored with run {}", rows, snapshot, run.id());
    return String.format("score: %d customers, snapshot %s, run %s -> %s, %s", rows, snapshot,
        run.id(), warehouse.path(Tables.CUSTOMER_SCORES),
        warehouse.path(Tables.CUSTOMER_PROPENSITY));
  }
}
