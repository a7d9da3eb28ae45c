package dev.propensity.jobs.model;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.propensity.common.Errors;
import dev.propensity.common.run.ModelRun;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import dev.propensity.jobs.model.EnsembleModel.Voter;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A run's voters and their {@link EnsembleModel}, as inference loads them: {@code propensity}
 * (calibrated), {@code propensity_raw} (the vote before calibration) and each voter's own
 * probability in {@code voter_probabilities}.
 */
public final class Ensemble {

  /** Where the voters are recorded in the run folder. */
  public static final String VOTERS_FILE = RunLayout.VOTERS;

  private final EnsembleModel model;

  private Ensemble(EnsembleModel model) {
    this.model = model;
  }

  /**
   * Saves the ensemble model, then records the voters (the file select's success is read by).
   *
   * @param model an ensemble whose voters are the run's candidates as {@code train} saved them
   *     (their folders are copied into the ensemble's)
   */
  public static void save(ModelRun run, Map<String, Object> description, EnsembleModel model) {
    try {
      // the voters are the run's candidates, loaded unchanged: their folders are copied
      RunLayout layout = RunLayout.of(run);
      model.writeCopyingVoters(layout::candidateModel).overwrite().save(layout.ensembleModel());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("Cannot save the ensemble of run " + run.id(), e);
    }
    Map<String, Object> file = new java.util.LinkedHashMap<>(description);
    file.put("voters", model.voters().stream().map(Voter::describe).toList());
    run.writeJson(VOTERS_FILE, file);
  }

  /**
   * Records voters without an ensemble model: the run then scores with their uncalibrated
   * weighted soft vote (the layout of runs before calibration and stacking existed).
   */
  public static void save(ModelRun run, String method, String metric, List<Voter> voters) {
    run.writeJson(VOTERS_FILE, Map.of("combine", method, "metric", metric, "voters",
        voters.stream().map(Voter::describe).toList()));
  }

  /**
   * @return the run's ensemble, loaded as one model
   * @throws dev.propensity.common.PropensityException if the run has no voters yet
   */
  public static Ensemble load(ModelRun run) {
    if (!run.exists(VOTERS_FILE)) {
      throw Errors.invalidConfig("propensity.score.run", run.id(),
          "a run whose voters are selected (run the select job for it first)");
    }
    RunLayout layout = RunLayout.of(run);
    if (layout.hasEnsembleModel()) {
      return described(run, new Ensemble(EnsembleModel.load(layout.ensembleModel())));
    }
    // runs selected before the ensemble model existed: an uncalibrated soft vote
    Map<String, Object> file = run.readJson(VOTERS_FILE, new TypeReference<>() {});
    List<Map<String, Object>> recorded = ModelRun.JSON.convertValue(file.get("voters"),
        new TypeReference<>() {});
    List<Voter> vs = new ArrayList<>();
    for (Map<String, Object> v : recorded) {
      String name = (String) v.get("name");
      Object metric = v.get("metric");
      vs.add(new Voter(name, ((Number) v.get("weight")).doubleValue(),
          metric instanceof Number n ? n.doubleValue() : Double.NaN,
          Pipelines.load(layout.candidateModel(name))));
    }
    return described(run, new Ensemble(EnsembleModel.softVote(vs, Modes.Combine.WEIGHTED)));
  }

  /** Runs trained before candidate descriptions load, but cannot score: say so at load. */
  private static Ensemble described(ModelRun run, Ensemble ensemble) {
    for (Voter v : ensemble.voters()) {
      if (!CandidateDescription.isDescribed(v.model())) {
        throw new dev.propensity.common.PropensityException(String.format("Cannot use run %s:"
            + " its voter '%s' was saved before the model layer described its candidates"
            + " (issue 17), and this version reads a candidate only through its description."
            + " Train the run again (train, select, bins), or score it with the release that"
            + " trained it.", run.id(), v.name()),
            dev.propensity.common.PropensityException.EXIT_USER_ERROR);
      }
    }
    return ensemble;
  }

  /**
   * @return the decision threshold select chose for the run's propensity (max-F1 or a target
   *     recall on the reference rows, {@code ensemble/threshold.json}); empty for a run selected
   *     before the threshold was recorded
   */
  public static java.util.OptionalDouble threshold(ModelRun run) {
    String file = RunLayout.ensemble(RunLayout.THRESHOLD);
    if (!run.exists(file)) {
      return java.util.OptionalDouble.empty();
    }
    Map<String, Object> choice = run.readJson(file, new TypeReference<>() {});
    return java.util.OptionalDouble.of(((Number) choice.get("threshold")).doubleValue());
  }

  /** Builds an ensemble from a model in memory. */
  public static Ensemble of(EnsembleModel model) {
    return new Ensemble(model);
  }

  /** Builds an uncalibrated weighted soft vote of voters in memory (their models set). */
  public static Ensemble of(List<Voter> voters) {
    return new Ensemble(EnsembleModel.softVote(voters, Modes.Combine.WEIGHTED));
  }

  /** @return the voters, with their fitted pipelines */
  public List<Voter> voters() {
    return model.voters();
  }

  /** @return the voters' fitted pipelines, in the order of {@link #voters()} */
  public List<PipelineModel> models() {
    return model.voters().stream().map(Voter::model).toList();
  }

  /** @return the whole ensemble model */
  public EnsembleModel model() {
    return model;
  }

  /**
   * @param df rows with the feature columns
   * @return {@code df} plus {@code voter_probabilities}, {@code propensity_raw} and
   *     {@code propensity}
   */
  public Dataset<Row> score(Dataset<Row> df) {
    return model.transform(df);
  }

  /**
   * @param df rows with the feature columns
   * @param keepVoterFeatures also keep each voter's classifier input vector, for {@code
   *     ReasonCodes} to reuse (see {@link EnsembleModel#transform(Dataset, boolean)})
   * @return as {@link #score(Dataset)}, plus the voters' vectors when asked
   */
  public Dataset<Row> score(Dataset<Row> df, boolean keepVoterFeatures) {
    return model.transform(df, keepVoterFeatures);
  }
}
