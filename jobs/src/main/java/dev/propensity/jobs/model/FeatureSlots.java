package dev.propensity.jobs.model;

import dev.propensity.common.PropensityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.feature.ChiSqSelectorModel;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.ml.feature.UnivariateFeatureSelectorModel;
import org.apache.spark.ml.feature.VarianceThresholdSelectorModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.feature.VectorSlicer;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.shared.HasFeaturesCol;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Which original feature each slot of a pipeline's model input vector comes from. The slots are
 * laid out by the pipeline's {@link VectorAssembler}: one per numeric input column, one per
 * one-hot category of a vector input (named by the vector's ML attribute metadata, e.g. the
 * StringIndexer label). Each assembler input is traced back through the stages that map columns
 * one to one (Imputer, StringIndexer, OneHotEncoder...) to an original column. Between the
 * assembler and the classifier, StandardScaler keeps positions and the selectors (VectorSlicer by
 * index, ChiSq / Univariate / VarianceThreshold selectors) pick slots.
 *
 * <p>When the pipeline has a StandardScaler, its training mean and standard deviation give the
 * mean and spread of every model input slot: what linear SHAP and standardised coefficients need.
 *
 * @param featuresCol the column the classifier reads
 * @param sources the original column of each model input slot
 * @param labels the category label of each slot (null for a numeric slot)
 * @param means the training mean of each model input slot, or null without a StandardScaler
 * @param stds the training standard deviation of each model input slot, or null
 */
public record FeatureSlots(String featuresCol, List<String> sources, List<String> labels,
    double[] means, double[] stds) {

  /** @return the number of slots of the model input vector */
  public int size() {
    return sources.size();
  }

  /**
   * @param model a fitted pipeline whose last stage is the classifier
   * @param transformed the schema after all stages but the last (it carries the attributes)
   * @param originals the original feature columns, where tracing stops
   * @throws PropensityException when the pipeline has no VectorAssembler or a stage between it
   *     and the classifier is not understood
   */
  public static FeatureSlots of(PipelineModel model, StructType transformed,
      List<String> originals) {
    Transformer[] stages = java.util.Arrays.copyOf(model.stages(), modelIndex(model) + 1);
    Transformer classifier = stages[stages.length - 1];
    if (!(classifier instanceof HasFeaturesCol hf)) {
      throw unsupported(model, "its last stage " + classifier.getClass().getSimpleName()
          + " is not a classifier");
    }
    String featuresCol = hf.getFeaturesCol();
    VectorAssembler assembler = null;
    int at = -1;
    for (int i = 0; i < stages.length; i++) {
      if (stages[i] instanceof VectorAssembler va) {
        assembler = va;
        at = i;
      }
    }
    if (assembler == null) {
      throw unsupported(model, "it has no VectorAssembler");
    }
    Map<String, String> upstream = new HashMap<>();
    for (int i = 0; i < at; i++) {
      String[][] io = inputOutput(stages[i]);
      for (int j = 0; j < io[1].length && j < io[0].length; j++) {
        upstream.put(io[1][j], io[0][j]);
      }
    }
    List<String> sources = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    for (String in : assembler.getInputCols()) {
      String source = in;
      while (!originals.contains(source) && upstream.containsKey(source)) {
        source = upstream.get(source);
      }
      StructField field = transformed.apply(in);
      if (field.dataType() instanceof NumericType) {
        sources.add(source);
        labels.add(null);
      } else if (field.dataType() instanceof VectorUDT) {
        AttributeGroup group = AttributeGroup.fromStructField(field);
        if (group.size() < 0) {
          throw unsupported(model, "assembler input '" + in + "' has no vector size metadata");
        }
        for (int k = 0; k < group.size(); k++) {
          sources.add(source);
          labels.add(group.attributes().isDefined() ? name(group.getAttr(k)) : null);
        }
      } else {
        throw unsupported(model, "assembler input '" + in + "' has type " + field.dataType());
      }
    }
    return followToClassifier(model, stages, at, assembler.getOutputCol(), featuresCol,
        sources, labels);
  }

  /**
   * @return the index of the stage that is the model: the last stage, or the one before a
   *     trailing {@link ScoreToProbability} (the regression-tree candidates write their leaf mean
   *     as a score that stage turns into the probability vector, unchanged in [0, 1])
   */
  public static int modelIndex(PipelineModel model) {
    Transformer[] stages = model.stages();
    int last = stages.length - 1;
    return last > 0 && stages[last] instanceof ScoreToProbability ? last - 1 : last;
  }

  /** @return the model stage of a candidate pipeline (see {@link #modelIndex}) */
  public static Transformer model(PipelineModel model) {
    return model.stages()[modelIndex(model)];
  }

  private static FeatureSlots followToClassifier(PipelineModel model, Transformer[] stages,
      int assemblerAt, String assembled, String featuresCol, List<String> sources,
      List<String> labels) {
    int[] pos = new int[sources.size()];
    for (int i = 0; i < pos.length; i++) {
      pos[i] = i;
    }
    double[] means = null;
    double[] stds = null;
    String current = assembled;
    for (int i = assemblerAt + 1; i < stages.length - 1 && !current.equals(featuresCol); i++) {
      String[][] io = inputOutput(stages[i]);
      if (io[0].length != 1 || !io[0][0].equals(current)) {
        continue;
      }
      Transformer stage = stages[i];
      if (stage instanceof StandardScalerModel s) {
        StandardScaling scaling = StandardScaling.of(s);
        double[] mu = s.mean().toArray();
        means = new double[pos.length];
        stds = new double[pos.length];
        for (int j = 0; j < pos.length; j++) {
          means[j] = scaling.scaledMean(mu, j);
          stds[j] = scaling.scaledStd()[j];
        }
      } else {
        int[] picked = selected(stage);
        if (picked == null) {
          throw unsupported(model, "stage " + stage.getClass().getSimpleName() + " between"
              + " the assembler and the classifier is not supported (known: StandardScaler,"
              + " VectorSlicer, ChiSqSelector, UnivariateFeatureSelector,"
              + " VarianceThresholdSelector)");
        }
        pos = pick(pos, picked);
        means = means == null ? null : pick(means, picked);
        stds = stds == null ? null : pick(stds, picked);
      }
      current = io[1][0];
    }
    if (!current.equals(featuresCol)) {
      throw unsupported(model, "the classifier reads '" + featuresCol + "', which is not derived"
          + " from the assembler output '" + assembled + "'");
    }
    List<String> src = new ArrayList<>();
    List<String> lab = new ArrayList<>();
    for (int p : pos) {
      src.add(sources.get(p));
      lab.add(labels.get(p));
    }
    return new FeatureSlots(featuresCol, List.copyOf(src), java.util.Collections
        .unmodifiableList(lab), means, stds);
  }

  private static int[] selected(Transformer stage) {
    if (stage instanceof VectorSlicer vs) {
      return vs.getNames().length > 0 ? null : vs.getIndices();
    }
    int[] sel = null;
    if (stage instanceof ChiSqSelectorModel m) {
      sel = m.selectedFeatures();
    } else if (stage instanceof UnivariateFeatureSelectorModel m) {
      sel = m.selectedFeatures();
    } else if (stage instanceof VarianceThresholdSelectorModel m) {
      sel = m.selectedFeatures();
    }
    if (sel != null) {
      sel = sel.clone();
      Arrays.sort(sel); // the selectors keep the selected slots in ascending order
    }
    return sel;
  }

  private static int[] pick(int[] a, int[] idx) {
    int[] out = new int[idx.length];
    for (int i = 0; i < idx.length; i++) {
      out[i] = a[idx[i]];
    }
    return out;
  }

  private static double[] pick(double[] a, int[] idx) {
    double[] out = new double[idx.length];
    for (int i = 0; i < idx.length; i++) {
      out[i] = a[idx[i]];
    }
    return out;
  }

  private static String name(Attribute a) {
    return a.name().isDefined() ? a.name().get() : null;
  }

  /** @return {inputs, outputs} of a stage with inputCol(s)/featuresCol and outputCol(s) */
  private static String[][] inputOutput(Transformer stage) {
    if (stage instanceof SQLTransformer sql) {
      return castsOf(sql.getStatement());
    }
    String[] in = strings(stage, "inputCols");
    String[] out = strings(stage, "outputCols");
    if (in.length == 0) {
      String single = string(stage, "inputCol");
      in = single != null ? new String[] {single} : new String[0];
      if (in.length == 0) {
        String features = string(stage, "featuresCol");
        in = features != null ? new String[] {features} : new String[0];
      }
      String o = string(stage, "outputCol");
      out = o != null ? new String[] {o} : new String[0];
    }
    return new String[][] {in, out};
  }

  /** The column casts CandidatePipeline writes as SQL: {@code CAST(`in` AS T) AS `out`}. */
  private static final Pattern CAST =
      Pattern.compile("CAST\\(`([^`]+)` AS \\w+\\) AS `([^`]+)`", Pattern.CASE_INSENSITIVE);

  private static String[][] castsOf(String statement) {
    List<String> in = new ArrayList<>();
    List<String> out = new ArrayList<>();
    Matcher m = CAST.matcher(statement);
    while (m.find()) {
      in.add(m.group(1));
      out.add(m.group(2));
    }
    return new String[][] {in.toArray(new String[0]), out.toArray(new String[0])};
  }

  private static String[] strings(Transformer stage, String param) {
    if (!stage.hasParam(param)) {
      return new String[0];
    }
    Param<Object> p = stage.getParam(param);
    return stage.isDefined(p) ? (String[]) stage.getOrDefault(p) : new String[0];
  }

  private static String string(Transformer stage, String param) {
    if (!stage.hasParam(param)) {
      return null;
    }
    Param<Object> p = stage.getParam(param);
    return stage.isDefined(p) ? (String) stage.getOrDefault(p) : null;
  }

  private static PropensityException unsupported(PipelineModel model, String why) {
    return new PropensityException(String.format(
        "Cannot map the model input of pipeline %s back to feature columns: %s. Explanations"
            + " need pipelines built like training.CandidatePipeline.", model.uid(), why));
  }
}
