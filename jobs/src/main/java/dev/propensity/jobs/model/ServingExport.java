package dev.propensity.jobs.model;

import dev.propensity.common.run.ModelRun;
import dev.propensity.common.serving.ServingModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.ImputerModel;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a run's {@link ServingModel} ({@code serving/model.json}): each voter's {@link
 * FusedVoter} form with its imputer surrogates and casts, its predictor as plain numbers (the
 * exact form its {@link Family} explains: a linear margin or a sum of trees, with the link its
 * {@link CandidateDescription} records), the ensemble's combination and calibration, and the
 * bins. A voter outside that (feature selection, a family without an exact form) makes the file
 * say why the run cannot be scored live. A new family with an exact form is exported as it is.
 */
public final class ServingExport {

  private static final Logger LOG = LoggerFactory.getLogger(ServingExport.class);

  /** {@code SQLTransformer}'s casts as {@link CandidatePipeline} writes them. */
  private static final Pattern CAST =
      Pattern.compile("CAST\\(`([^`]+)` AS STRING\\) AS `([^`]+)`");

  private ServingExport() {}

  /** Why a voter has no plain form. */
  private static final class NotExportable extends Exception {
    private static final long serialVersionUID = 1L;

    NotExportable(String message) {
      super(message);
    }
  }

  /**
   * Exports the run's ensemble and bins for the real-time service and writes them to the run.
   *
   * @param run the run
   * @param model the run's ensemble
   * @param raw the schema of the feature rows the run scores (its raw input columns)
   * @param edges the run's bin edges
   * @param labels the run's group labels
   * @param features the features reason codes are reported for ({@code FeatureSchema.features()})
   * @return the written model
   */
  public static ServingModel write(ModelRun run, EnsembleModel model, StructType raw,
      double[] edges, List<String> labels, List<String> features) {
    ServingModel exported = of(run.id(), model, raw, edges, labels, features);
    run.writeJson(RunLayout.SERVING_MODEL, exported);
    if (exported.exportable()) {
      LOG.info("serving: run {} exported for live scoring to {}", run.id(),
          RunLayout.SERVING_MODEL);
    } else {
      LOG.warn("serving: run {} cannot be scored live ({}); lookups still work",
          run.id(), exported.reason());
    }
    return exported;
  }

  /** @return the run's serving model (not exportable, with the reason, where it cannot be) */
  public static ServingModel of(String runId, EnsembleModel model, StructType raw,
      double[] edges, List<String> labels, List<String> features) {
    List<ServingModel.Voter> voters = new ArrayList<>();
    try {
      for (EnsembleModel.Voter v : model.voters()) {
        voters.add(voter(v, raw));
      }
    } catch (NotExportable e) {
      return ServingModel.notExportable(runId, e.getMessage(), edges, labels);
    }
    ServingModel.Linear meta = model.meta() == null ? null
        : new ServingModel.Linear(model.meta().coefficients().toArray(),
            model.meta().intercept());
    double[] platt = model.platt();
    double[] boundaries = model.isotonic() == null ? null
        : model.isotonic().boundaries().toArray();
    double[] predictions = model.isotonic() == null ? null
        : model.isotonic().predictions().toArray();
    return new ServingModel(ServingModel.FORMAT, runId, true, null, voters,
        Modes.name(model.combine()), meta, Modes.name(model.calibration()), platt[0], platt[1],
        boundaries, predictions, edges, labels, features);
  }

  private static ServingModel.Voter voter(EnsembleModel.Voter v, StructType raw)
      throws NotExportable {
    PipelineModel pipeline = v.model();
    StructType prepared = raw;
    Map<String, ServingModel.Input> produced = new HashMap<>();
    for (int i = 0; i < FusedVoter.prefixOf(pipeline); i++) {
      Transformer stage = pipeline.stages()[i];
      prepared = stage.transformSchema(prepared);
      if (stage instanceof ImputerModel imp) {
        if (!Double.isNaN(imp.getMissingValue())) {
          throw new NotExportable("voter " + v.name() + " imputes the value "
              + imp.getMissingValue() + " (only null and NaN are exported)");
        }
        Row surrogates = imp.surrogateDF().first();
        String[] in = imp.getInputCols();
        String[] out = imp.getOutputCols();
        for (int c = 0; c < in.length; c++) {
          produced.put(out[c], new ServingModel.Input(in[c], ServingModel.Input.NUMBER,
              ((Number) surrogates.getAs(in[c])).doubleValue(), typeOf(raw, in[c])));
        }
      } else if (stage instanceof SQLTransformer sql) {
        Matcher m = CAST.matcher(sql.getStatement());
        while (m.find()) {
          produced.put(m.group(2), new ServingModel.Input(m.group(1),
              ServingModel.Input.CATEGORY, Double.NaN, typeOf(raw, m.group(1))));
        }
      }
    }
    Optional<FusedVoter> fused = FusedVoter.of(pipeline, prepared);
    if (fused.isEmpty()) {
      throw new NotExportable("voter " + v.name() + " has a stage or setting the fused scorer"
          + " does not cover (e.g. feature selection); stages: " + Arrays.toString(
              Arrays.stream(pipeline.stages()).map(s -> s.getClass().getSimpleName()).toArray()));
    }
    FusedVoter f = fused.get();
    List<ServingModel.Input> inputs = new ArrayList<>();
    for (String in : f.inputs()) {
      ServingModel.Input input = produced.get(in);
      if (input == null && Arrays.asList(raw.fieldNames()).contains(in)) {
        boolean number = raw.apply(in).dataType() instanceof NumericType;
        input = new ServingModel.Input(in, number ? ServingModel.Input.NUMBER
            : ServingModel.Input.CATEGORY, Double.NaN, typeOf(raw, in));
      }
      if (input == null) {
        throw new NotExportable("voter " + v.name() + " reads column " + in + ", which neither"
            + " the raw features nor its imputer and casts give");
      }
      inputs.add(input);
    }
    return new ServingModel.Voter(v.name(), v.weight(), inputs, f.encoder(),
        predictor(v.name(), pipeline));
  }

  private static String typeOf(StructType raw, String column) {
    return Arrays.asList(raw.fieldNames()).contains(column)
        ? raw.apply(column).dataType().typeName() : null;
  }

  /**
   * The voter's predictor in the exact form its family explains it ({@link Family#exact}) and
   * the link its description records: what the live scorer evaluates and explains. A family
   * without an exact form (naive Bayes, an MLP, ...) has no plain form.
   */
  private static ServingModel.Predictor predictor(String voter, PipelineModel pipeline)
      throws NotExportable {
    CandidateDescription d = CandidateDescription.of(pipeline);
    Optional<Family.Exact> exact = d.output() == CandidateDescription.Output.NONE
        ? Optional.empty() : Candidates.family(d.family()).exact(d.predictor(pipeline));
    if (exact.isEmpty()) {
      throw new NotExportable("voter " + voter + " is of family " + d.family() + ", which has"
          + " no exact plain form for live scoring (exported: the families with exact"
          + " explanations, e.g. logistic, decision-tree, random-forest, gbt, xgboost,"
          + " xgboost-rf)");
    }
    Family.Exact e = exact.get();
    if (e.trees() != null) {
      boolean clip = d.probability() == CandidateDescription.Probability.LEAF_MEAN;
      return ServingModel.Predictor.trees(e.trees(), d.link(), clip);
    }
    double[] means = d.scaling() == CandidatePipeline.Scaling.STANDARD
        ? StandardScaling.of((StandardScalerModel) pipeline.stages()[d.scalerStage()])
            .scaledMeans()
        : null;
    return ServingModel.Predictor.linear(e.coefficients(), e.intercept(), d.link(), means);
  }
}
