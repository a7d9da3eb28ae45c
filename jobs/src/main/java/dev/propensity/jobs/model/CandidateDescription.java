package dev.propensity.jobs.model;

import dev.propensity.common.PropensityException;
import dev.propensity.common.explain.Link;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * The typed description of a fitted candidate pipeline: which stage is what (leading Catalyst
 * stages, indexer, encoder, assembler, selector, scaler, predictor, the stage writing the
 * probability vector), where each assembler input comes from, the family and the space of the
 * predictor's explained output. {@link CandidatePipeline} writes it when it lays the stages out,
 * as the pipeline's last stage: an identity transformer whose params Spark ML's own {@code
 * DefaultParamsWriter} saves with the pipeline and {@code PipelineModel.load} restores. Fused
 * scoring, feature slots, SHAP, importance and the ensemble read it; none walks the stages.
 */
public final class CandidateDescription extends Transformer implements DefaultParamsWritable {

  /** How the pipeline's probability vector is written. */
  public enum Probability {
    /** The predictor is a probabilistic classifier and writes it itself. */
    CLASSIFIER,
    /** A regression tree model's leaf mean of the 0/1 label, turned into a vector by {@link
     *  ScoreToProbability}. */
    LEAF_MEAN,
    /** A margin turned into a probability by {@link PlattScalingModel}. */
    PLATT
  }

  /** The space of the predictor's exactly explained output. */
  public enum Output {
    /** The probability of the positive class. */
    PROBABILITY,
    /** A margin that the link maps to the probability. */
    MARGIN,
    /** The family has no exact explanation. */
    NONE
  }

  private final String uid;
  private final Param<String> family;
  private final IntParam leadingStages;
  private final IntParam indexerStage;
  private final IntParam encoderStage;
  private final IntParam assemblerStage;
  private final StringArrayParam assemblerSources;
  private final IntParam selectorStage;
  private final Param<String> selection;
  private final IntParam scalerStage;
  private final Param<String> scaling;
  private final IntParam predictorStage;
  private final Param<String> probability;
  private final IntParam probabilityStage;
  private final Param<String> featuresCol;
  private final Param<String> probabilityCol;
  private final Param<String> output;
  private final Param<String> link;

  public CandidateDescription() {
    this(Identifiable.randomUID("candidateDescription"));
  }

  public CandidateDescription(String uid) {
    this.uid = uid;
    family = new Param<>(this, "family", "the classifier family (propensity.train.candidates)");
    leadingStages = new IntParam(this, "leadingStages",
        "how many leading stages are Catalyst transforms (imputer, casts)");
    indexerStage = new IntParam(this, "indexerStage", "the StringIndexer's index, or -1");
    encoderStage = new IntParam(this, "encoderStage", "the OneHotEncoder's index, or -1");
    assemblerStage = new IntParam(this, "assemblerStage", "the VectorAssembler's index");
    assemblerSources = new StringArrayParam(this, "assemblerSources",
        "the original feature column of each assembler input");
    selectorStage = new IntParam(this, "selectorStage", "the feature selector's index, or -1");
    selection = new Param<>(this, "selection", "none, variance or univariate");
    scalerStage = new IntParam(this, "scalerStage", "the scaler's index, or -1");
    scaling = new Param<>(this, "scaling", "none, standard or unit-range");
    predictorStage = new IntParam(this, "predictorStage", "the predictor's index");
    probability = new Param<>(this, "probability", "classifier, leaf-mean or platt");
    probabilityStage = new IntParam(this, "probabilityStage",
        "the index of the stage writing the probability vector");
    featuresCol = new Param<>(this, "featuresCol", "the vector the predictor reads");
    probabilityCol = new Param<>(this, "probabilityCol", "the probability vector column");
    output = new Param<>(this, "output", "probability, margin or none: the explained output");
    link = new Param<>(this, "link", "how the explained output becomes a probability");
    setDefault(indexerStage, -1);
    setDefault(encoderStage, -1);
    setDefault(selectorStage, -1);
    setDefault(scalerStage, -1);
    setDefault(selection, "none");
    setDefault(scaling, "none");
    setDefault(output, "none");
    setDefault(link, "none");
  }

  /** @return the reader {@link PipelineModel#load} finds by reflection */
  public static MLReader<CandidateDescription> read() {
    return new DefaultParamsReader<>();
  }

  /**
   * @param model a fitted candidate pipeline
   * @return its description, the pipeline's last stage
   * @throws PropensityException for a pipeline without one (saved before descriptions existed,
   *     or not built by {@link CandidatePipeline}): retrain the run
   */
  public static CandidateDescription of(PipelineModel model) {
    Transformer[] stages = model.stages();
    Transformer last = stages.length == 0 ? null : stages[stages.length - 1];
    if (last instanceof CandidateDescription d) {
      return d;
    }
    throw new PropensityException(String.format("Cannot read candidate pipeline %s: it has no"
        + " candidate description (its stages: %s). Pipelines saved before the model layer"
        + " described its candidates (runs trained before issue 17) no longer load for scoring,"
        + " explanations or serving: train the run again (train, select, bins). Pipelines built"
        + " by hand must be built with CandidatePipeline.", model.uid(), java.util.Arrays
            .stream(stages).map(s -> s.getClass().getSimpleName()).toList()));
  }

  /** @return whether a fitted pipeline carries a description */
  public static boolean isDescribed(PipelineModel model) {
    Transformer[] stages = model.stages();
    return stages.length > 0 && stages[stages.length - 1] instanceof CandidateDescription;
  }

  // ---- typed reads

  public String family() {
    return $(family);
  }

  public int leadingStages() {
    return (Integer) $(leadingStages);
  }

  public int indexerStage() {
    return (Integer) $(indexerStage);
  }

  public int encoderStage() {
    return (Integer) $(encoderStage);
  }

  public int assemblerStage() {
    return (Integer) $(assemblerStage);
  }

  public String[] assemblerSources() {
    return $(assemblerSources);
  }

  public int selectorStage() {
    return (Integer) $(selectorStage);
  }

  /** @return the selection method: none, variance or univariate */
  public String selection() {
    return $(selection);
  }

  public int scalerStage() {
    return (Integer) $(scalerStage);
  }

  public CandidatePipeline.Scaling scaling() {
    return Modes.parse(uid + " scaling", $(scaling), CandidatePipeline.Scaling.class);
  }

  public int predictorStage() {
    return (Integer) $(predictorStage);
  }

  public Probability probability() {
    return Modes.parse(uid + " probability", $(probability), Probability.class);
  }

  public int probabilityStage() {
    return (Integer) $(probabilityStage);
  }

  public String featuresCol() {
    return $(featuresCol);
  }

  public String probabilityCol() {
    return $(probabilityCol);
  }

  public Output output() {
    return Modes.parse(uid + " output", $(output), Output.class);
  }

  /** @return the link of the explained output, or null when the family has none */
  public Link link() {
    String l = $(link);
    return "none".equals(l) ? null : Modes.parse(uid + " link", l, Link.class);
  }

  /** @return the fitted predictor of {@code model} (this description's pipeline) */
  public Transformer predictor(PipelineModel model) {
    return model.stages()[predictorStage()];
  }

  // ---- set while CandidatePipeline lays the stages out

  CandidateDescription setFamily(String value) {
    set(family, value);
    return this;
  }

  CandidateDescription setLeadingStages(int value) {
    set(leadingStages, value);
    return this;
  }

  CandidateDescription setIndexerStage(int value) {
    set(indexerStage, value);
    return this;
  }

  CandidateDescription setEncoderStage(int value) {
    set(encoderStage, value);
    return this;
  }

  CandidateDescription setAssembler(int stage, String[] sources) {
    set(assemblerStage, stage);
    set(assemblerSources, sources);
    return this;
  }

  CandidateDescription setSelector(int stage, String method) {
    set(selectorStage, stage);
    set(selection, method);
    return this;
  }

  CandidateDescription setScaler(int stage, CandidatePipeline.Scaling value) {
    set(scalerStage, stage);
    set(scaling, Modes.name(value));
    return this;
  }

  CandidateDescription setPredictor(int stage, String features, Probability how,
      int probabilityAt, String probabilityColumn) {
    set(predictorStage, stage);
    set(featuresCol, features);
    set(probability, Modes.name(how));
    set(probabilityStage, probabilityAt);
    set(probabilityCol, probabilityColumn);
    return this;
  }

  CandidateDescription setOutput(Output space, Link value) {
    set(output, Modes.name(space));
    set(link, value == null ? "none" : Modes.name(value));
    return this;
  }

  // ---- params (Spark ML finds them by reflection)

  public Param<String> familyParam() {
    return family;
  }

  public IntParam leadingStagesParam() {
    return leadingStages;
  }

  public IntParam indexerStageParam() {
    return indexerStage;
  }

  public IntParam encoderStageParam() {
    return encoderStage;
  }

  public IntParam assemblerStageParam() {
    return assemblerStage;
  }

  public StringArrayParam assemblerSourcesParam() {
    return assemblerSources;
  }

  public IntParam selectorStageParam() {
    return selectorStage;
  }

  public Param<String> selectionParam() {
    return selection;
  }

  public IntParam scalerStageParam() {
    return scalerStage;
  }

  public Param<String> scalingParam() {
    return scaling;
  }

  public IntParam predictorStageParam() {
    return predictorStage;
  }

  public Param<String> probabilityParam() {
    return probability;
  }

  public IntParam probabilityStageParam() {
    return probabilityStage;
  }

  public Param<String> featuresColParam() {
    return featuresCol;
  }

  public Param<String> probabilityColParam() {
    return probabilityCol;
  }

  public Param<String> outputParam() {
    return output;
  }

  public Param<String> linkParam() {
    return link;
  }

  // ---- the identity transform

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    return dataset.toDF();
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return schema;
  }

  @Override
  public CandidateDescription copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public String uid() {
    return uid;
  }
}
