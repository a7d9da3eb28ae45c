package dev.propensity.jobs;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.propensity.common.PropensityException;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.Splits;
import dev.propensity.jobs.model.EnsembleModel;
import dev.propensity.jobs.model.Modes;
import dev.propensity.jobs.model.RunLayout;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A run's own data, rebuilt from what its manifest pinned: the feature table version, the
 * snapshot and the split seed. Select and bins use it to score the validation and test rows the
 * run never trained on.
 */
public final class RunData {

  private RunData() {}

  /** @return the run's manifest as a map */
  public static Map<String, Object> manifest(ModelRun run) {
    return run.readJson(RunLayout.MANIFEST, new TypeReference<>() {});
  }

  /**
   * Stops a step that would work on a run in the wrong state: a failed or still-running run is
   * never selected, binned or promoted.
   *
   * @param step the job asking, for the message
   * @param allowed the manifest statuses the step accepts
   * @throws PropensityException naming the run, its status and the manifest
   */
  public static void requireStatus(ModelRun run, String step, List<String> allowed) {
    String status = run.status();
    if (!allowed.contains(status)) {
      throw new PropensityException(String.format("Cannot run %s on run %s: its manifest (%s)"
          + " says '%s', and %s needs one of %s. A failed or unfinished run cannot be completed"
          + " or promoted: train a new run.", step, run.id(), run.path(ModelRun.MANIFEST), status,
          step, allowed));
    }
  }

  /**
   * @return the run's rows with {@code __label} (double) and {@code __split} columns, the splits
   *     from the cut points the manifest records (sorted again for runs that have none)
   */
  @SuppressWarnings("unchecked")
  public static Dataset<Row> splitRows(Warehouse warehouse, FeatureSchema schema, ModelRun run) {
    Map<String, Object> manifest = manifest(run);
    Map<String, Object> input = (Map<String, Object>) manifest.get("input");
    Map<String, Object> split = (Map<String, Object>) manifest.get("splits");
    String snapshot = (String) input.get("snapshot");
    FeatureSchema pinned = schema.forTable((String) input.get("table"));
    FeatureInput in = FeatureInput.pinned(warehouse, pinned,
        ((Number) input.get("version")).longValue(),
        snapshot.isEmpty() ? Optional.empty() : Optional.of(snapshot));
    Splits splits = new Splits(((Number) split.get("train")).doubleValue(),
        ((Number) split.get("validation")).doubleValue(),
        ((Number) split.get("test")).doubleValue(), ((Number) split.get("seed")).longValue());
    List<Splits.Cut> cuts = Splits.Cut.fromManifest(split.get("cuts")).orElseGet(
        () -> splits.cuts(in.rows(), schema.idColumn(), schema.labelColumn()));
    return splits.assign(in.rows(), schema.idColumn(), schema.labelColumn(), cuts)
        .withColumn(CandidatePipeline.LABEL, col(schema.labelColumn()).cast("double"));
  }

  /**
   * The voters' out-of-fold predictions on the training rows, joined by id: one row per training
   * customer with its {@code label} (as the training job wrote it) and one probability column
   * per voter.
   *
   * @param voters the voters' names
   * @param columns the name of each voter's probability column, in the same order
   * @param hint what to do instead when a voter has none (ends the error message)
   * @throws PropensityException naming the voter and folder when one has no out-of-fold table
   */
  public static Dataset<Row> outOfFold(SparkSession spark, ModelRun run, List<String> voters,
      List<String> columns, String idColumn, String hint) {
    Dataset<Row> joined = null;
    for (int i = 0; i < voters.size(); i++) {
      RunLayout layout = RunLayout.of(run);
      if (!layout.hasOutOfFold(voters.get(i))) {
        throw new PropensityException("Run " + run.id() + " has no out-of-fold predictions for"
            + " voter " + voters.get(i) + " (" + layout.outOfFold(voters.get(i)) + "). " + hint);
      }
      Dataset<Row> oof = spark.read().format("delta").load(layout.outOfFold(voters.get(i)))
          .select(col(idColumn), col("label"), col("probability").as(columns.get(i)));
      joined = joined == null ? oof : joined.join(oof.drop("label"), idColumn);
    }
    return joined;
  }

  /**
   * @return the rows the run's final models were fitted on ({@code refit} in its manifest;
   *     {@code train} for a run trained before the setting existed)
   */
  public static Modes.Refit refit(ModelRun run) {
    Object value = manifest(run).get("refit");
    return value == null ? Modes.Refit.TRAIN
        : Modes.parse(run.path(RunLayout.MANIFEST), value.toString(), Modes.Refit.class);
  }

  /**
   * The ensemble's scores of the training rows from the voters' out-of-fold probabilities
   * ({@code candidates/<voter>/oof}): every training row scored by models that never saw it,
   * combined (and calibrated) by {@code model}; a stacking meta-learner was fitted on these same
   * rows, so its part is in-sample.
   *
   * @return id, {@link CandidatePipeline#LABEL}, the voters' probabilities, {@code
   *     propensity_raw} and {@code propensity}
   */
  public static Dataset<Row> ensembleOutOfFold(SparkSession spark, ModelRun run,
      EnsembleModel model, String idColumn, String hint) {
    return model.fromVoterProbabilities(voterOutOfFold(spark, run, model, idColumn, hint));
  }

  /**
   * @return the model's voters' out-of-fold probabilities joined by id, in the columns {@link
   *     EnsembleModel#fromVoterProbabilities} reads, with {@link CandidatePipeline#LABEL}
   */
  public static Dataset<Row> voterOutOfFold(SparkSession spark, ModelRun run,
      EnsembleModel model, String idColumn, String hint) {
    List<String> voters = model.voters().stream().map(EnsembleModel.Voter::name).toList();
    return outOfFold(spark, run, voters,
        voters.stream().map(EnsembleModel::voterColumn).toList(), idColumn, hint)
        .withColumn(CandidatePipeline.LABEL, col("label").cast("double")).drop("label");
  }
}
