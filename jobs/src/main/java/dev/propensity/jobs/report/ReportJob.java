package dev.propensity.jobs.report;

import dev.propensity.jobs.model.RunLayout;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.model.Ensemble;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@code runs/<run_id>/report.html}: one self-contained page with the leaderboard, ROC and
 * precision-recall curves of the voters and the ensemble, the calibration plot, gain and lift by
 * bin, the bin table, feature importance and, once the run has scored a snapshot, PSI per
 * feature.
 */
public final class ReportJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(ReportJob.class);

  /** The report's file in the run folder. */
  public static final String FILE = RunLayout.REPORT;

  /** The drift table the report reads PSI from, when it exists. */
  static final String DRIFT_TABLE = "drift_report";

  @Override
  public String name() {
    return "report";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    Warehouse warehouse = Warehouse.of(spark, config);
    ModelRuns runs = new ModelRuns(warehouse.root(), spark.sparkContext().hadoopConfiguration());
    ModelRun run = runs.open(config.string("propensity.report.run"));
    return write(spark, config, run);
  }

  /** Builds and writes the report of {@code run}; returns a one-line summary. */
  public static String write(SparkSession spark, JobConfig config, ModelRun run) {
    Warehouse warehouse = Warehouse.of(spark, config);
    Ensemble ensemble = Ensemble.load(run);
    HtmlReport page = new HtmlReport("Propensity run " + run.id());
    page.paragraph("Run folder: " + run.path());

    page.heading("Leaderboard");
    Dataset<Row> board = ReportData.leaderboard(warehouse, Tables.LEADERBOARD, run.id());
    page.table(board.schema().fields(), board.collectAsList());
    page.paragraph("Voters: " + ensemble.voters().stream().map(Ensemble.Voter::name).toList());

    List<ReportData.CalibrationBucket> calibration = new ArrayList<>();
    List<ReportData.Curve> curves = ReportData.curves(warehouse, FeatureSchema.fromConfig(config),
        run, ensemble, config.integer("propensity.report.curve-points"), calibration);
    page.heading("ROC and precision-recall (validation)");
    page.chart("roc", Charts.dataUri(Charts.lines("ROC", "false positive rate",
        "true positive rate", curves.stream().map(c -> new Charts.Line(
            String.format("%s (AUC %.3f)", c.name(), c.aucRoc()), c.fpr(), c.tpr())).toList(),
        true)));
    page.chart("precision-recall", Charts.dataUri(Charts.lines("Precision-recall", "recall",
        "precision", curves.stream().map(c -> new Charts.Line(
            String.format("%s (AUC %.3f)", c.name(), c.aucPr()), c.recall(), c.precision()))
            .toList(), false)));

    page.heading("Calibration (validation, ensemble)");
    page.chart("calibration", Charts.dataUri(Charts.lines("Calibration", "mean predicted",
        "observed rate", List.of(new Charts.Line("ensemble",
            calibration.stream().mapToDouble(ReportData.CalibrationBucket::meanPredicted)
                .toArray(),
            calibration.stream().mapToDouble(ReportData.CalibrationBucket::observedRate)
                .toArray())), true)));

    List<Map<String, Object>> bins = ReportData.binStats(run);
    page.heading("Propensity bins (validation; bin 1 = highest scores)");
    if (!bins.isEmpty()) {
      List<String> labels = bins.stream().map(b -> String.valueOf(b.get("bin"))).toList();
      page.chart("lift", Charts.dataUri(Charts.bars("Lift by bin", "bin", "lift", labels,
          "lift", bins.stream().map(b -> ((Number) b.get("lift")).doubleValue()).toList())));
      List<Double> gain = new ArrayList<>(List.of(0.0));
      List<Double> share = new ArrayList<>(List.of(0.0));
      bins.forEach(b -> {
        gain.add(((Number) b.get("cumulativeGain")).doubleValue());
        share.add(((Number) b.get("cumulativeCustomers")).doubleValue());
      });
      page.chart("gain", Charts.dataUri(Charts.lines("Cumulative gain", "share of customers",
          "share of positives", List.of(new Charts.Line("ensemble",
              share.stream().mapToDouble(Double::doubleValue).toArray(),
              gain.stream().mapToDouble(Double::doubleValue).toArray())), true)));
      page.table(bins);
    } else {
      page.paragraph("The bins job has not run for this run yet.");
    }

    page.heading("Feature importance");
    Map<String, Map<String, Double>> importance = ReportData.importance(run, ensemble.voters());
    if (importance.isEmpty()) {
      page.paragraph("No voter of this run has importance.json.");
    }
    importance.forEach((voter, byFeature) -> {
      List<Map.Entry<String, Double>> top = byFeature.entrySet().stream()
          .sorted(Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder()))
          .limit(20).toList();
      page.chart("importance-" + voter, Charts.dataUri(Charts.bars("Importance: " + voter,
          "feature", "importance", top.stream().map(Map.Entry::getKey).toList(), voter,
          top.stream().map(Map.Entry::getValue).toList())));
    });

    page.heading("Drift (PSI per feature, newest scored snapshot)");
    Map<String, Double> psi = ReportData.psi(warehouse, DRIFT_TABLE, run.id());
    if (psi.isEmpty()) {
      page.paragraph("No scoring run has computed drift with this run yet.");
    } else {
      page.chart("psi", Charts.dataUri(Charts.bars("PSI", "feature", "PSI",
          new ArrayList<>(psi.keySet()), "psi", new ArrayList<>(psi.values()))));
    }

    run.writeText(FILE, page.render());
    LOG.info("report: {}", run.path(FILE));
    return "report: " + run.path(FILE);
  }
}
