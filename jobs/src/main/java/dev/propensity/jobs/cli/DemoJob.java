package dev.propensity.jobs.cli;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.round;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.report.ReportJob;
import org.apache.spark.sql.SparkSession;

/**
 * The newcomer's first run: the whole pipeline on generated data, then a short summary of the
 * leaderboard, the bins and where the tables are.
 */
public final class DemoJob extends PipelineJob {

  @Override
  public String name() {
    return "demo";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    String steps = super.run(spark, config);
    Warehouse warehouse = Warehouse.of(spark, config);
    String runId = new ModelRegistry(warehouse).championId().orElse("(none)");
    System.out.println();
    System.out.println("=== propensity demo ===");
    System.out.println(steps);
    System.out.printf("%nThis demo ran %d customers, candidates %s, %d-fold stratified CV with"
            + " one grid point each (a fast subset); a real run uses the defaults (logistic,"
            + " random-forest, gbt with grids), conf/local.conf (all eight families) or your own"
            + " -c FILE.%n",
        config.longValue("propensity.generate.customers"),
        config.strings("propensity.train.candidates"),
        config.integer("propensity.train.cv.num-folds"));
    System.out.println("\nLeaderboard (run " + runId + "):");
    warehouse.read(Tables.LEADERBOARD).where(col("run_id").equalTo(runId))
        .select(col("candidate"), round(col("cv_mean"), 4).as("cv_auc"),
            round(col("validation_auc_roc"), 4).as("val_auc_roc"),
            round(col("validation_auc_pr"), 4).as("val_auc_pr"),
            round(col("test_auc_roc"), 4).as("test_auc_roc"),
            round(col("fit_seconds"), 1).as("fit_s"))
        .orderBy(col("validation_auc_roc").desc()).show(false);
    System.out.println("Propensity bins on the validation set (bin 1 = highest scores):");
    warehouse.read(Tables.BIN_STATS).where(col("run_id").equalTo(runId))
        .select(col("bin"), col("group_label"), col("customers"), col("positives"),
            round(col("conversion_rate"), 4).as("conversion_rate"), round(col("lift"), 2)
                .as("lift"), round(col("cumulative_gain"), 3).as("cumulative_gain"),
            round(col("min_score"), 4).as("min_score"), round(col("max_score"), 4)
                .as("max_score"))
        .orderBy("bin").show(false);
    if (warehouse.exists(Tables.SEGMENT_SUMMARY)) {
      System.out.println("Segments (propensity group x profit tier) and their actions:");
      warehouse.read(Tables.SEGMENT_SUMMARY).where(col("run_id").equalTo(runId))
          .select(col("segment"), col("action"), col("customers"),
              round(col("mean_propensity"), 4).as("mean_propensity"),
              round(col("total_profit"), 0).as("total_profit"))
          .orderBy(col("customers").desc()).show(false);
    }
    if (warehouse.exists(Tables.DRIFT_REPORT)) {
      System.out.println("Drift of the scored snapshot against the training baseline (top 5 PSI):");
      warehouse.read(Tables.DRIFT_REPORT).where(col("run_id").equalTo(runId))
          .select(col("snapshot_date"), col("feature"), round(col("psi"), 4).as("psi"),
              col("level"))
          .orderBy(col("psi").desc()).show(5, false);
    }
    System.out.println("Tables (Delta) under " + warehouse.root() + ":");
    for (String t : warehouse.tables()) {
      System.out.println("  " + t + "  " + warehouse.path(t));
    }
    System.out.println("Model run folder: " + warehouse.root() + "/runs/" + runId);
    System.out.println("Run report (open in a browser): " + warehouse.root() + "/runs/" + runId
        + "/" + ReportJob.FILE);
    System.out.println("\nTry: ./submit.sh sql \"SELECT bin, count(*) FROM customer_propensity"
        + " GROUP BY bin ORDER BY bin\"");
    return "demo: done";
  }
}
