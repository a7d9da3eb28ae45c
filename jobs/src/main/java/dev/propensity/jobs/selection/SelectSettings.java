package dev.propensity.jobs.selection;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.jobs.model.Modes;
import dev.propensity.jobs.model.Modes.Combine;
import dev.propensity.jobs.model.Modes.ThresholdRule;
import dev.propensity.jobs.model.ReasonCodes;
import java.util.List;

/**
 * {@code propensity.select.*}, read and checked once before any Spark work.
 *
 * @param runId the run to select for ("" or "latest": the newest)
 * @param metric what candidates are ranked by ({@link #METRICS})
 * @param rankBy where the metric is computed: validation, out-of-fold, or auto
 * @param outOfFoldBelowPositives auto ranks out-of-fold below this many validation positives
 * @param topN how many voters at most
 * @param maxCorrelation a candidate correlating above this with a chosen voter is skipped
 * @param combine mean, weighted or stacking
 * @param stackingRegParam the stacking meta-learner's regularisation
 * @param calibration none, platt or isotonic
 * @param rule the threshold rule
 * @param targetRecall the recall the target-recall rule reaches
 * @param importanceRows validation rows the ensemble's importance is computed on (0: off)
 * @param skipUnsupported {@code propensity.explain.unsupported-voters = skip}
 */
record SelectSettings(String runId, String metric, Modes.RankBy rankBy,
    int outOfFoldBelowPositives, int topN, double maxCorrelation, Combine combine,
    double stackingRegParam, Modes.Calibration calibration, ThresholdRule rule,
    double targetRecall, int importanceRows, boolean skipUnsupported) {

  static final String KEY = "propensity.select.";

  /** Metrics a run can be ranked by: split_metric of the candidates' metrics.json. */
  static final List<String> METRICS = List.of("validation_auc_roc", "validation_auc_pr",
      "validation_top_decile_lift");

  static SelectSettings fromConfig(JobConfig config) {
    int topN = config.integer(KEY + "top-n");
    if (topN < 1) {
      throw Errors.invalidConfig(KEY + "top-n", topN, "at least 1");
    }
    double targetRecall = config.number(KEY + "threshold.target-recall");
    if (targetRecall <= 0 || targetRecall > 1) {
      throw Errors.invalidConfig(KEY + "threshold.target-recall", targetRecall, "in (0, 1]");
    }
    int importanceRows = config.integer(KEY + "importance-rows");
    if (importanceRows < 0) {
      throw Errors.invalidConfig(KEY + "importance-rows", importanceRows, "0 (off) or more");
    }
    return new SelectSettings(config.string(KEY + "run-id"), config.oneOf(KEY + "metric", METRICS),
        Modes.fromConfig(config, KEY + "rank-by", Modes.RankBy.class),
        config.integer(KEY + "out-of-fold-below-positives"), topN,
        config.number(KEY + "max-correlation"),
        Modes.fromConfig(config, KEY + "combine", Combine.class),
        config.number(KEY + "stacking.reg-param"),
        Modes.fromConfig(config, KEY + "calibration", Modes.Calibration.class),
        Modes.fromConfig(config, KEY + "threshold.rule", ThresholdRule.class), targetRecall,
        importanceRows, ReasonCodes.skipUnsupported(config));
  }

  /** @return the recall the threshold rule targets, or 0 for max-F1 */
  double recallTarget() {
    return rule == ThresholdRule.TARGET_RECALL ? targetRecall : 0;
  }
}
