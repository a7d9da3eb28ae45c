package dev.propensity.jobs.bins;

import dev.propensity.jobs.model.Modes;
import dev.propensity.jobs.model.RunLayout;
import dev.propensity.jobs.model.ServingExport;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;

import dev.propensity.common.Errors;
import dev.propensity.common.bins.BinEdges;
import dev.propensity.common.bins.BinStatistics;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.monitoring.DriftBaseline;
import dev.propensity.jobs.report.ReportJob;
import dev.propensity.jobs.model.Ensemble;
import dev.propensity.jobs.model.EnsembleModel;
import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.Splits;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Equal-frequency propensity bins from the ensemble's scores on the run's validation rows, with
 * conversion rate, lift and gain per bin. The last step of a run: it marks the run completed. It
 * does not make it the champion: that is the {@code promote} step's gate.
 */
public final class BinsJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(BinsJob.class);

  public static final StructType BIN_STATS_SCHEMA = new StructType()
      .add("run_id", DataTypes.StringType)
      .add("bin", DataTypes.IntegerType)
      .add("group_label", DataTypes.StringType)
      .add("customers", DataTypes.LongType)
      .add("positives", DataTypes.LongType)
      .add("conversion_rate", DataTypes.DoubleType)
      .add("lift", DataTypes.DoubleType)
      .add("cumulative_customers", DataTypes.DoubleType)
      .add("cumulative_gain", DataTypes.DoubleType)
      .add("cumulative_lift", DataTypes.DoubleType)
      .add("min_score", DataTypes.DoubleType)
      .add("max_score", DataTypes.DoubleType)
      .add("created_at", DataTypes.TimestampType);

  @Override
  public String name() {
    return "bins";
  }

  /** Equal-frequency bins from the reference scores' quantiles. */
  private static BinColumns quantileBins(Dataset<Row> reference, int count) {
    double[] quantiles = reference.stat().approxQuantile("propensity",
        BinEdges.quantileProbabilities(count), 1e-4);
    double lowest = reference.agg(min("propensity")).first().getDouble(0);
    double[] edges = BinEdges.fromQuantiles(quantiles, lowest);
    return new BinColumns(edges, BinColumns.quantileLabels(edges.length + 1));
  }

  /**
   * Fixed cut points, highest first, each the lowest score of its group (High &gt;= 0.7): the
   * edge is the next double below the cut, since a score equal to an edge goes to the lower bin.
   */
  static BinColumns fixedBins(JobConfig config) {
    List<Double> cuts = config.numbers("propensity.bins.fixed.cuts");
    List<String> labels = config.strings("propensity.bins.fixed.labels");
    if (cuts.isEmpty() || labels.size() != cuts.size() + 1) {
      throw Errors.invalidConfig("propensity.bins.fixed.labels", labels,
          "one label more than propensity.bins.fixed.cuts " + cuts + " (highest group first)");
    }
    for (int i = 1; i < cuts.size(); i++) {
      if (cuts.get(i) >= cuts.get(i - 1)) {
        throw Errors.invalidConfig("propensity.bins.fixed.cuts", cuts,
            "strictly decreasing cut points, e.g. [0.7, 0.4]");
      }
    }
    double[] edges = new double[cuts.size()];
    for (int i = 0; i < cuts.size(); i++) {
      edges[cuts.size() - 1 - i] = Math.nextDown(cuts.get(i));
    }
    return new BinColumns(edges, labels);
  }

  /** {@code propensity.bins.method}. */
  enum Method {
    /** Equal-frequency bins from the reference scores' quantiles. */
    QUANTILE,
    /** The cut points of {@code propensity.bins.fixed}. */
    FIXED
  }

  /** {@code propensity.bins.reference}: the rows whose scores are cut. */
  enum Reference {
    /** Validation, or out-of-fold after a refit on the validation rows. */
    AUTO,
    VALIDATION,
    TEST,
    /** The ensemble of the voters' out-of-fold predictions on the training rows. */
    OUT_OF_FOLD;

    /** @return the reference for a run: auto follows its refit */
    Reference resolve(ModelRun run) {
      if (this != AUTO) {
        return this;
      }
      return RunData.refit(run).includesValidation() ? OUT_OF_FOLD : VALIDATION;
    }
  }

  /**
   * {@code propensity.bins.*}, read and checked before any Spark work.
   *
   * @param runId the run ("" or "latest": the newest)
   * @param count how many quantile bins
   * @param method quantile or fixed
   * @param reference the rows whose scores are cut
   */
  record Settings(String runId, int count, Method method, Reference reference) {
    static Settings fromConfig(JobConfig config) {
      int count = config.integer("propensity.bins.count");
      if (count < 2) {
        throw Errors.invalidConfig("propensity.bins.count", count, "at least 2");
      }
      return new Settings(config.string("propensity.bins.run-id"), count,
          Modes.fromConfig(config, "propensity.bins.method", Method.class),
          Modes.fromConfig(config, "propensity.bins.reference", Reference.class));
    }
  }

  /** The reference rows' ensemble scores and labels. */
  private static Dataset<Row> referenceScores(SparkSession spark, Warehouse warehouse,
      FeatureSchema schema, ModelRun run, Ensemble ensemble, Reference reference) {
    if (reference == Reference.OUT_OF_FOLD) {
      return RunData.ensembleOutOfFold(spark, run, ensemble.model(), schema.idColumn(),
          "Set propensity.bins.reference to validation or test, or retrain the run.");
    }
    String split = Modes.name(reference);
    if (RunData.refit(run).splits().contains(split)) {
      LOG.warn("bins: run {} was refitted on its {} rows (train.refit = {}): bins cut on them"
          + " are in-sample; propensity.bins.reference = out-of-fold avoids that", run.id(),
          split, Modes.name(RunData.refit(run)));
    }
    return ensemble.score(RunData.splitRows(warehouse, schema, run)
        .where(col(Splits.COLUMN).equalTo(split)));
  }

  /** Customers, positives and score range per bin of the reference rows, then lift and gain. */
  private static List<BinStatistics> statistics(Dataset<Row> reference, BinColumns bins) {
    List<BinStatistics.Counts> counts = new ArrayList<>();
    for (Row r : reference.withColumn("bin", bins.bin(col("propensity")))
        .groupBy("bin")
        .agg(count(lit(1)), sum(col(CandidatePipeline.LABEL)), min("propensity"),
            max("propensity"))
        .orderBy("bin").collectAsList()) {
      counts.add(new BinStatistics.Counts(r.getInt(0), r.getLong(1),
          Math.round(r.getDouble(2)), r.getDouble(3), r.getDouble(4)));
    }
    return BinStatistics.of(counts);
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    Settings settings = Settings.fromConfig(config);
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    Warehouse warehouse = Warehouse.of(spark, config);
    ModelRuns runs = new ModelRuns(warehouse.root(), spark.sparkContext().hadoopConfiguration());
    ModelRun run = runs.openOrNewest(settings.runId());
    RunData.requireStatus(run, "bins", List.of("selected", ModelRun.COMPLETED));
    Ensemble ensemble = Ensemble.load(run);
    Reference referenceRows = settings.reference().resolve(run);
    LOG.info("bins: reference rows: {}", Modes.name(referenceRows));
    Dataset<Row> reference = referenceScores(spark, warehouse, schema, run, ensemble,
            referenceRows)
        .select(col("propensity"), col(CandidatePipeline.LABEL))
        .persist(StorageLevel.MEMORY_AND_DISK());

    int count = settings.count();
    BinColumns bins = settings.method() == Method.FIXED ? fixedBins(config)
        : quantileBins(reference, count);
    double[] edges = bins.edges();
    if (settings.method() == Method.QUANTILE && edges.length + 1 < count) {
      LOG.warn("bins: only {} distinct bins of {} asked for: the reference scores have ties",
          edges.length + 1, count);
    }

    List<BinStatistics> stats = statistics(reference, bins);
    reference.unpersist();

    bins.save(run);
    run.writeJson(RunLayout.BIN_STATS, stats);
    // what the real-time service scores with (serve module); after the bins it carries
    ServingExport.write(run, ensemble.model(),
        RunData.splitRows(warehouse, schema, run).schema(), bins.edges(), bins.labels(),
        schema.features());
    Timestamp now = Timestamp.from(Instant.now());
    List<Row> rows = stats.stream().map(s -> RowFactory.create(run.id(), s.bin(),
        bins.labels().get(s.bin() - 1), s.customers(), s.positives(), s.conversionRate(),
        s.lift(), s.cumulativeCustomers(), s.cumulativeGain(), s.cumulativeLift(),
        s.minScore(), s.maxScore(), now)).toList();
    // the run's rows replace those of an earlier attempt: a re-run adds no duplicates
    warehouse.replaceWhere(spark.createDataFrame(rows, BIN_STATS_SCHEMA), Tables.BIN_STATS,
        Map.of("run_id", run.id()));

    // the training baseline drift checks compare scored snapshots against
    DriftBaseline.writeBaseline(spark, warehouse, schema, run);
    if (config.bool("propensity.report.on-complete")) {
      ReportJob.write(spark, config, run);
    }
    run.setStatus(ModelRun.COMPLETED);
    LOG.info("bins: run {} has {} bins; top bin lift {}; completed", run.id(),
        stats.size(), stats.isEmpty() ? 0 : stats.get(0).lift());
    return String.format("bins: run %s, %d bins, top-bin lift %.2f; run completed (the promote"
        + " step decides whether it becomes champion)", run.id(), stats.size(),
        stats.get(0).lift());
  }
}
