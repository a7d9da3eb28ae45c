package dev.propensity.jobs.report;

import dev.propensity.jobs.model.RunLayout;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.common.PropensityException;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.model.Ensemble;
import dev.propensity.jobs.model.EnsembleModel;
import dev.propensity.jobs.model.ReasonCodes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@code runs/<run_id>/report.html}: one self-contained, printable page with the
 * leaderboard, ROC and precision-recall curves of the voters and the ensemble, the calibration
 * plot, gain and lift by bin, the bin table, feature importance, SHAP explanations (summary,
 * dependence, contributions by group and segment, waterfalls of top-bin customers) and, once the
 * run has scored a snapshot, its segments, PSI per feature and performance on labelled
 * snapshots. The bins job writes it when a run completes; a pipeline or cycle rewrites it at its
 * end. Category charts are horizontal bars in inline SVG, so every name is readable.
 */
public final class ReportJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(ReportJob.class);

  /** The report's file in the run folder. */
  public static final String FILE = RunLayout.REPORT;

  /** The drift table the report reads PSI from, when it exists. */
  static final String DRIFT_TABLE = "drift_report";

  /** Bars per importance or PSI chart. */
  static final int TOP_FEATURES = 20;

  @Override
  public String name() {
    return "report";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    Warehouse warehouse = Warehouse.of(spark, config);
    ModelRun run = new ModelRegistry(warehouse).open(config.string("propensity.report.run"));
    return write(spark, config, run);
  }

  /** Builds and writes the report of {@code run}; returns a one-line summary. */
  public static String write(SparkSession spark, JobConfig config, ModelRun run) {
    Warehouse warehouse = Warehouse.of(spark, config);
    // settings first: a wrong key fails before any Spark work
    ExplanationSection.Settings shap = ExplanationSection.Settings.of(config);
    Ensemble ensemble = Ensemble.load(run);
    HtmlReport page = new HtmlReport("Propensity run " + run.id());
    page.paragraph("Run folder: " + run.path());

    page.heading("Leaderboard");
    Dataset<Row> board = ReportData.leaderboard(warehouse, Tables.LEADERBOARD, run.id());
    page.table(board.schema().fields(), board.collectAsList());
    page.paragraph("Voters: " + ensemble.voters().stream().map(EnsembleModel.Voter::name).toList());

    List<ReportData.CalibrationBucket> calibration = new ArrayList<>();
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    List<ReportData.Curve> curves = ReportData.curves(warehouse, schema, run, ensemble, config.integer("propensity.report.curve-points"), calibration);
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
      page.svg(Svg.hbars("lift", "Lift by bin", "lift", bins.stream().map(b -> "bin "
              + b.get("bin") + (b.get("groupLabel") == null ? "" : " (" + b.get("groupLabel")
              + ")")).toList(),
          bins.stream().map(b -> ((Number) b.get("lift")).doubleValue()).toList(), "%.2f"));
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
          .limit(TOP_FEATURES).toList();
      page.svg(Svg.hbars("importance-" + voter, "Importance: " + voter, "importance",
          top.stream().map(Map.Entry::getKey).toList(),
          top.stream().map(Map.Entry::getValue).toList(), "%.4f"));
    });

    page.heading("Explanations (SHAP)");
    if (shap.sample() == 0) {
      page.paragraph("Off (propensity.report.shap-sample = 0).");
    } else {
      try {
        ExplanationSection.add(page, Explanations.of(warehouse, schema, run, ensemble,
            shap.sample(), ReasonCodes.skipUnsupported(config)), shap);
      } catch (PropensityException e) {
        // e.g. no voter has an exact explanation: the rest of the report still helps
        LOG.warn("report: no explanation section: {}", e.getMessage());
        page.paragraph("No explanation: " + e.getMessage());
      }
    }

    page.heading("Segments (newest scored snapshot)");
    Optional<Dataset<Row>> segments = ReportData.segmentSummary(warehouse, run.id());
    if (segments.isEmpty()) {
      page.paragraph("No snapshot has been segmented with this run yet.");
    } else {
      List<Row> seg = segments.get().collectAsList();
      page.svg(Svg.hbars("segments", "Customers per segment", "customers",
          seg.stream().map(r -> r.<String>getAs("segment")).toList(),
          seg.stream().map(r -> ((Number) r.getAs("customers")).doubleValue()).toList(),
          "%.0f"));
      page.table(segments.get().schema().fields(), seg);
    }

    page.heading("Drift (PSI per feature, newest scored snapshot)");
    Map<String, Double> psi = ReportData.psi(warehouse, DRIFT_TABLE, run.id());
    if (psi.isEmpty()) {
      page.paragraph("No scoring run has computed drift with this run yet.");
    } else {
      List<Map.Entry<String, Double>> worst = psi.entrySet().stream().limit(TOP_FEATURES)
          .toList();
      page.paragraph(String.format(java.util.Locale.ROOT, "%d features; the %d with the highest"
          + " PSI (moderate from %.2f, significant from %.2f: drift.moderate,"
          + " drift.significant).", psi.size(), worst.size(),
          config.number("propensity.drift.moderate"),
          config.number("propensity.drift.significant")));
      page.svg(Svg.hbars("psi", "PSI", "PSI", worst.stream().map(Map.Entry::getKey).toList(),
          worst.stream().map(Map.Entry::getValue).toList(), "%.4f"));
    }

    page.heading("Performance over time (labelled snapshots)");
    List<Row> performance = ReportData.performance(warehouse, run.id());
    if (performance.isEmpty()) {
      page.paragraph("No snapshot scored with this run has matured labels yet.");
    } else {
      page.svg(Svg.hbars("performance", "AUC by labelled snapshot", "AUC ROC",
          performance.stream().map(r -> String.valueOf(r.get(0))).toList(),
          performance.stream().map(r -> r.isNullAt(1) ? 0.0 : r.getDouble(1)).toList(),
          "%.4f"));
      page.table(performance.get(0).schema().fields(), performance);
    }

    run.writeText(FILE, page.render());
    LOG.info("report: {}", run.path(FILE));
    return "report: " + run.path(FILE);
  }
}
