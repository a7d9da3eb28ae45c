package dev.propensity.jobs.model;

import dev.propensity.common.serving.SlotEncoder;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PredictionModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.ProbabilisticClassificationModel;
import org.apache.spark.ml.feature.OneHotEncoderModel;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.ml.feature.StringIndexerModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;

/**
 * A voter's fitted pipeline as one function of a row, for scoring many customers: its Catalyst
 * stages (imputer, casts) still run as Spark transforms, and everything after them (string
 * indexing, one-hot, assembly, scaling and the classifier) runs in one call per row on plain
 * arrays. MLlib runs each of those stages as its own UDF, converting a vector to and from Spark's
 * row format at every stage; that conversion, not the arithmetic, is most of the scoring time
 * (see {@code benchmarks/RESULTS-scoring.md}).
 *
 * <p>The function computes what MLlib's stages compute, with their public parameters: the
 * indexer's labels (unseen values and nulls to the extra index, {@code handleInvalid=keep}),
 * the encoder's category sizes and {@code dropLast}, the assembler's order (null numbers as NaN),
 * the standard scaler's {@code (x - mean) / std} (0 for a constant slot) or the unit-range
 * scaler's clipped min-max, then the classifier's own {@code predictProbability} (or a
 * regression tree model's {@code predict}, clipped to [0, 1] as {@code ScoreToProbability}
 * does: the tree candidates' leaf means of the 0/1 label). The stages are found through the
 * pipeline's {@link CandidateDescription}. {@link #of} gives nothing for feature selection, a
 * Platt-scaled margin or another setting, and the caller then runs MLlib's stages as they are. {@code CandidatesTest} holds the two ways equal for every family.
 */
public final class FusedVoter implements Serializable {

  private static final long serialVersionUID = 1L;

  private final List<String> inputs;
  private final SlotEncoder encoder;
  private final PredictionModel<Vector, ?> predictor;
  /** The predictor is a regression model whose prediction is the probability itself. */
  private final boolean leafMean;

  private FusedVoter(List<String> inputs, SlotEncoder encoder,
      PredictionModel<Vector, ?> predictor, boolean leafMean) {
    this.inputs = List.copyOf(inputs);
    this.encoder = encoder;
    this.predictor = predictor;
    this.leafMean = leafMean;
  }

  /**
   * @param model a voter's fitted pipeline
   * @param prepared the schema of {@link #prepare}'s output
   * @return the fused form, or empty when a stage or setting is not one this class computes
   */
  @SuppressWarnings("unchecked")
  public static Optional<FusedVoter> of(PipelineModel model, StructType prepared) {
    CandidateDescription d = CandidateDescription.of(model);
    Transformer[] stages = model.stages();
    CandidateDescription.Probability how = d.probability();
    if (!"none".equals(d.selection()) || how == CandidateDescription.Probability.PLATT) {
      return Optional.empty();
    }
    Map<String, Map<String, Integer>> labelsOf = new HashMap<>();
    Map<String, String> indexedFrom = new HashMap<>();
    Map<String, Integer> categories = new HashMap<>();
    Map<String, String> encodedFrom = new HashMap<>();
    Map<String, Integer> encodedSize = new HashMap<>();
    if (d.indexerStage() >= 0) {
      StringIndexerModel si = (StringIndexerModel) stages[d.indexerStage()];
      if (!"keep".equals(si.getHandleInvalid())) {
        return Optional.empty();
      }
      for (int i = 0; i < si.getInputCols().length; i++) {
        Map<String, Integer> labels = new HashMap<>();
        String[] l = si.labelsArray()[i];
        for (int j = 0; j < l.length; j++) {
          labels.put(l[j], j);
        }
        labelsOf.put(si.getOutputCols()[i], labels);
        categories.put(si.getOutputCols()[i], l.length);
        indexedFrom.put(si.getOutputCols()[i], si.getInputCols()[i]);
      }
    }
    if (d.encoderStage() >= 0) {
      OneHotEncoderModel ohe = (OneHotEncoderModel) stages[d.encoderStage()];
      if (!"keep".equals(ohe.getHandleInvalid())) {
        return Optional.empty();
      }
      for (int i = 0; i < ohe.getInputCols().length; i++) {
        String in = ohe.getInputCols()[i];
        if (!labelsOf.containsKey(in) || ohe.categorySizes()[i] != categories.get(in) + 1) {
          return Optional.empty();
        }
        // keep adds the invalid category last; dropLast then drops it again
        int width = ohe.getDropLast() ? ohe.categorySizes()[i] : ohe.categorySizes()[i] + 1;
        encodedFrom.put(ohe.getOutputCols()[i], in);
        encodedSize.put(ohe.getOutputCols()[i], width);
      }
    }
    VectorAssembler va = (VectorAssembler) stages[d.assemblerStage()];
    if (!"keep".equals(va.getHandleInvalid())) {
      return Optional.empty();
    }
    double[] shift = null;
    double[] scale = null;
    double[] min = null;
    double[] max = null;
    switch (d.scaling()) {
      case STANDARD -> {
        StandardScaling scaling = StandardScaling.of((StandardScalerModel) stages[d.scalerStage()]);
        shift = scaling.shift();
        scale = scaling.scale();
      }
      case UNIT_RANGE -> {
        UnitRangeScalerModel ur = (UnitRangeScalerModel) stages[d.scalerStage()];
        min = ur.getOrDefault(ur.min());
        max = ur.getOrDefault(ur.max());
      }
      case NONE -> { }
    }
    PredictionModel<Vector, ?> predictor = (PredictionModel<Vector, ?>) d.predictor(model);
    return build(prepared, List.of(va.getInputCols()), labelsOf, indexedFrom, encodedFrom,
        encodedSize, shift, scale, min, max, predictor,
        how == CandidateDescription.Probability.LEAF_MEAN);
  }

  private static Optional<FusedVoter> build(StructType prepared,
      List<String> assembled, Map<String, Map<String, Integer>> labelsOf,
      Map<String, String> indexedFrom, Map<String, String> encodedFrom,
      Map<String, Integer> encodedSize, double[] shift, double[] scale, double[] min,
      double[] max, PredictionModel<Vector, ?> predictor, boolean leafMean) {
    Map<String, Integer> fields = new LinkedHashMap<>();
    List<SlotEncoder.Slot> slots = new ArrayList<>();
    int size = 0;
    for (String in : assembled) {
      String source;
      SlotEncoder.Slot slot;
      if (encodedFrom.containsKey(in)) {
        String indexed = encodedFrom.get(in);
        source = indexedFrom.get(indexed);
        if (!has(prepared, source) || !prepared.apply(source).dataType()
            .equals(DataTypes.StringType)) {
          return Optional.empty();
        }
        Map<String, Integer> labels = labelsOf.get(indexed);
        slot = new SlotEncoder.Slot(fields.computeIfAbsent(source, k -> fields.size()),
            encodedSize.get(in), labels);
      } else {
        source = in;
        // numbers of any width as doubles, as the assembler casts them (not booleans)
        if (!has(prepared, source)
            || !(prepared.apply(source).dataType() instanceof NumericType)) {
          return Optional.empty();
        }
        slot = new SlotEncoder.Slot(fields.computeIfAbsent(source, k -> fields.size()), 1, null);
      }
      slots.add(slot);
      size += slot.size();
    }
    if (size != predictor.numFeatures() && predictor.numFeatures() >= 0
        || shift != null && shift.length != size || min != null && min.length != size) {
      return Optional.empty();
    }
    return Optional.of(new FusedVoter(new ArrayList<>(fields.keySet()),
        new SlotEncoder(slots, shift, scale, min, max), predictor, leafMean));
  }

  private static boolean has(StructType schema, String column) {
    return Arrays.asList(schema.fieldNames()).contains(column);
  }

  /**
   * @return {@code df} after the pipeline's leading Catalyst stages (imputer, SQL casts), which
   *     stay Spark transforms: the rows {@link #features} reads, and the schema {@link #of} needs
   */
  public static Dataset<Row> prepare(PipelineModel model, Dataset<Row> df) {
    Dataset<Row> out = df;
    for (int i = 0; i < prefixOf(model); i++) {
      out = model.stages()[i].transform(out);
    }
    return out;
  }

  /** @return how many leading stages are Catalyst transforms (imputer, SQL) kept as they are */
  static int prefixOf(PipelineModel model) {
    return CandidateDescription.of(model).leadingStages();
  }

  /** @return the columns {@link #features} reads, in the order it expects them in its row */
  List<String> inputs() {
    return inputs;
  }

  /** @return the encoding and scaling after the Catalyst stages, shared with live scoring */
  SlotEncoder encoder() {
    return encoder;
  }

  /** @return the classifier's input vector for a row of {@link #inputs} */
  Vector features(Row row) {
    Object[] values = new Object[row.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = row.get(i);
    }
    return Vectors.dense(encoder.encode(values));
  }

  /** @return the probability of the positive class for the predictor's input vector */
  @SuppressWarnings("unchecked")
  double probability(Vector features) {
    if (leafMean) {
      // least(greatest(p, 0), 1) in Spark's order: NaN counts as the largest value
      double p = predictor.predict(features);
      return Double.isNaN(p) ? 1.0 : Math.min(1.0, Math.max(0.0, p));
    }
    return ((ProbabilisticClassificationModel<Vector, ?>) predictor).predictProbability(features)
        .apply(1);
  }
}
