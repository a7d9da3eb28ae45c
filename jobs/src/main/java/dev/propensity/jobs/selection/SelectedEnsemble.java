package dev.propensity.jobs.selection;

import static org.apache.spark.sql.functions.col;

import dev.propensity.common.run.ModelRun;
import dev.propensity.common.spark.Materialized;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.model.Calibration;
import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.EnsembleModel;
import dev.propensity.jobs.model.EnsembleModel.Voter;
import dev.propensity.jobs.model.Metrics;
import dev.propensity.jobs.model.Modes;
import dev.propensity.jobs.model.Modes.Combine;
import dev.propensity.jobs.model.Splits;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.stream.IntStream;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * The chosen voters combined, calibrated and given a threshold, with its metrics: combination
 * (mean, metric-weighted, or a stacking meta-learner on the voters' out-of-fold predictions),
 * calibration and threshold fitted on rows the final models never saw (validation, or the
 * voters' out-of-fold predictions when the final models were refitted on the validation rows),
 * then validation and test metrics at that threshold.
 *
 * @param model the calibrated ensemble
 * @param threshold the decision threshold and its precision and recall
 * @param validation the validation metrics
 * @param test the test metrics
 * @param calibration the calibration tables on the test rows, before and after
 * @param fittedOn where calibration and threshold were fitted: validation or out-of-fold
 */
record SelectedEnsemble(EnsembleModel model, Thresholds.Choice threshold,
    Map<String, Object> validation, Map<String, Object> test, Map<String, Object> calibration,
    String fittedOn) {

  private static final String HINT = "Runs refitted on their validation rows"
      + " (propensity.train.refit) calibrate on out-of-fold predictions: retrain the run.";

  /**
   * @param refit the rows the run's final models were fitted on
   * @param voters the chosen voters, weighted
   * @param validation the run's validation rows (persisted by the caller)
   * @param test the run's test rows
   */
  static SelectedEnsemble fit(SparkSession spark, ModelRun run, SelectSettings settings,
      Modes.Refit refit, List<Voter> voters, Dataset<Row> validation, Dataset<Row> test,
      String idColumn) {
    EnsembleModel model = settings.combine() == Combine.STACKING
        ? EnsembleModel.stacked(voters, fitMeta(spark, run, voters, idColumn,
            settings.stackingRegParam()))
        : EnsembleModel.softVote(voters, settings.combine());
    boolean oofReference = refit.includesValidation();
    String fittedOn = oofReference ? Ranking.OUT_OF_FOLD : Splits.VALIDATION;
    // the voters' out-of-fold probabilities, read once for calibration and threshold
    Dataset<Row> oof = oofReference
        ? RunData.voterOutOfFold(spark, run, model, idColumn, HINT)
            .persist(StorageLevel.MEMORY_AND_DISK())
        : null;
    // each voter scores validation and test once; combining, calibrating and the metrics
    // read these few columns (the same values as scoring through the whole ensemble each time)
    Dataset<Row> validationVotes = votes(model, validation);
    Dataset<Row> testVotes = votes(model, test);
    Dataset<Row> rawReference = model.fromVoterProbabilities(oofReference ? oof
        : validationVotes);
    if (settings.calibration() == Modes.Calibration.PLATT) {
      double[] ab = Calibration.fitPlatt(rawReference, EnsembleModel.RAW, CandidatePipeline.LABEL);
      model = model.withPlatt(ab[0], ab[1]);
    } else if (settings.calibration() == Modes.Calibration.ISOTONIC) {
      model = model.withIsotonic(Calibration.fitIsotonic(rawReference, EnsembleModel.RAW,
          CandidatePipeline.LABEL));
    }

    Dataset<Row> scoredValidation = model.fromVoterProbabilities(validationVotes)
        .persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> scoredTest = model.fromVoterProbabilities(testVotes)
        .persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> scoredReference = oofReference ? model.fromVoterProbabilities(oof)
        : scoredValidation;
    Thresholds.Choice threshold = Thresholds.choose(scoredReference, EnsembleModel.PROPENSITY,
        CandidatePipeline.LABEL, settings.recallTarget());
    Map<String, Object> val = Metrics.evaluate(scoredValidation, col(EnsembleModel.PROPENSITY),
        CandidatePipeline.LABEL, OptionalDouble.of(threshold.threshold()));
    Map<String, Object> tst = Metrics.evaluate(scoredTest, col(EnsembleModel.PROPENSITY),
        CandidatePipeline.LABEL, OptionalDouble.of(threshold.threshold()));
    Map<String, Object> tables = new LinkedHashMap<>();
    tables.put("method", Modes.name(settings.calibration()));
    tables.put("fitted_on", fittedOn);
    tables.put("before", Calibration.table(scoredTest, EnsembleModel.RAW,
        CandidatePipeline.LABEL));
    tables.put("after", Calibration.table(scoredTest, EnsembleModel.PROPENSITY,
        CandidatePipeline.LABEL));
    scoredValidation.unpersist();
    scoredTest.unpersist();
    Materialized.release(validationVotes);
    Materialized.release(testVotes);
    if (oof != null) {
      oof.unpersist();
    }
    return new SelectedEnsemble(model, threshold, val, tst, tables, fittedOn);
  }

  /**
   * @return the label and each voter's probability ({@link EnsembleModel#voterColumn}) of the
   *     rows, computed now and kept (a local checkpoint: later passes read these columns only)
   */
  private static Dataset<Row> votes(EnsembleModel model, Dataset<Row> rows) {
    List<Column> columns = new ArrayList<>(List.of(col(CandidatePipeline.LABEL)));
    for (Voter v : model.voters()) {
      columns.add(col(EnsembleModel.VOTER_PROBABILITIES).getItem(v.name())
          .as(EnsembleModel.voterColumn(v.name())));
    }
    return Materialized.of(model.transform(rows).select(columns.toArray(Column[]::new)), true);
  }

  /**
   * The stacking meta-learner's training rows: the voters' out-of-fold probabilities on the
   * training split, joined by customer id; never the final models' in-sample predictions.
   */
  static Dataset<Row> stackingRows(SparkSession spark, ModelRun run, List<Voter> voters,
      String idColumn) {
    List<String> probs = IntStream.range(0, voters.size()).mapToObj(i -> "__oof_" + i).toList();
    Dataset<Row> out = RunData.outOfFold(spark, run,
        voters.stream().map(Voter::name).toList(), probs, idColumn,
        "Stacking fits on out-of-fold predictions: retrain the run, or set"
            + " propensity.select.combine to mean or weighted.");
    return EnsembleModel.metaFeatures(out, probs);
  }

  private static LogisticRegressionModel fitMeta(SparkSession spark, ModelRun run,
      List<Voter> voters, String idColumn, double regParam) {
    return new LogisticRegression().setFeaturesCol(EnsembleModel.META_FEATURES)
        .setLabelCol("label").setRegParam(regParam).setMaxIter(100)
        .fit(stackingRows(spark, run, voters, idColumn));
  }
}
