package dev.propensity.jobs.model;

import dev.propensity.common.PropensityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.ml.feature.UnivariateFeatureSelectorModel;
import org.apache.spark.ml.feature.VarianceThresholdSelectorModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Which original feature each slot of a pipeline's model input vector comes from, read from the
 * pipeline's {@link CandidateDescription}. The slots are laid out by its {@link VectorAssembler}:
 * one per numeric input column, one per one-hot category of a vector input (named by the
 * vector's ML attribute metadata, e.g. the StringIndexer label); the description names each
 * assembler input's original column. Between the assembler and the classifier, the
 * StandardScaler keeps positions and the selector (variance or univariate) picks slots.
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
   * @throws PropensityException when the pipeline has no description or an assembler input
   *     has no slot metadata
   */
  public static FeatureSlots of(PipelineModel model, StructType transformed,
      List<String> originals) {
    CandidateDescription d = CandidateDescription.of(model);
    Transformer[] stages = model.stages();
    VectorAssembler assembler = (VectorAssembler) stages[d.assemblerStage()];
    String[] inputs = assembler.getInputCols();
    String[] from = d.assemblerSources();
    List<String> sources = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    for (int i = 0; i < inputs.length; i++) {
      String in = inputs[i];
      String source = from[i];
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
    return followToClassifier(model, d, sources, labels);
  }

  /** @return the index of the pipeline's predictor (from its {@link CandidateDescription}) */
  public static int modelIndex(PipelineModel model) {
    return CandidateDescription.of(model).predictorStage();
  }

  /** @return the predictor of a candidate pipeline (see {@link #modelIndex}) */
  public static Transformer model(PipelineModel model) {
    return model.stages()[modelIndex(model)];
  }

  /** Selection and scaling between the assembler and the predictor, in stage order. */
  private static FeatureSlots followToClassifier(PipelineModel model, CandidateDescription d,
      List<String> sources, List<String> labels) {
    int[] pos = new int[sources.size()];
    for (int i = 0; i < pos.length; i++) {
      pos[i] = i;
    }
    double[] means = null;
    double[] stds = null;
    int selector = d.selectorStage();
    int scaler = d.scaling() == CandidatePipeline.Scaling.STANDARD ? d.scalerStage() : -1;
    for (int i = d.assemblerStage() + 1; i < d.predictorStage(); i++) {
      if (i == scaler) {
        StandardScalerModel s = (StandardScalerModel) model.stages()[i];
        StandardScaling scaling = StandardScaling.of(s);
        means = scaling.scaledMeans();
        stds = scaling.scaledStd().clone();
      } else if (i == selector) {
        int[] picked = selected(model.stages()[i], d.selection());
        pos = pick(pos, picked);
        means = means == null ? null : pick(means, picked);
        stds = stds == null ? null : pick(stds, picked);
      }
    }
    List<String> src = new ArrayList<>();
    List<String> lab = new ArrayList<>();
    for (int p : pos) {
      src.add(sources.get(p));
      lab.add(labels.get(p));
    }
    return new FeatureSlots(d.featuresCol(), List.copyOf(src), java.util.Collections
        .unmodifiableList(lab), means, stds);
  }

  /** @return the slots a fitted selector keeps, ascending (as the selectors keep them) */
  private static int[] selected(Transformer stage, String method) {
    int[] sel = "variance".equals(method)
        ? ((VarianceThresholdSelectorModel) stage).selectedFeatures()
        : ((UnivariateFeatureSelectorModel) stage).selectedFeatures();
    sel = sel.clone();
    Arrays.sort(sel);
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

  private static PropensityException unsupported(PipelineModel model, String why) {
    return new PropensityException(String.format(
        "Cannot map the model input of pipeline %s back to feature columns: %s. Explanations"
            + " need pipelines built like training.CandidatePipeline.", model.uid(), why));
  }
}
