package dev.propensity.jobs.model;

import static org.apache.spark.ml.functions.array_to_vector;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;

import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Turns a score that already is a probability (a regression tree's leaf mean of the 0/1 label)
 * into the 2-slot probability vector {@code [1 - p, p]} the classifiers write, clipped to [0, 1].
 *
 * <p>Why the tree candidates are regression trees: MLlib's tree classifiers merge sibling leaves
 * that predict the same class. With a few percent positives nearly every leaf predicts 0, so the
 * trees collapse and their probabilities to a handful of values (a decision tree scored AUC 0.5 on
 * the demo data). A regression tree on the 0/1 label splits by variance, which for a binary label
 * is proportional to Gini impurity, and its leaf mean is the leaf's positive rate: the same model
 * without the lossy merge.
 */
public final class ScoreToProbability extends Transformer implements DefaultParamsWritable {

  private final String uid;
  private final Param<String> inputCol;
  private final Param<String> outputCol;

  public ScoreToProbability() {
    this(Identifiable.randomUID("scoreToProbability"));
  }

  public ScoreToProbability(String uid) {
    this.uid = uid;
    this.inputCol = new Param<>(this, "inputCol", "score in [0, 1] (double)");
    this.outputCol = new Param<>(this, "outputCol", "probability vector [1 - p, p]");
  }

  /** @return the reader {@link org.apache.spark.ml.PipelineModel#load} finds by reflection */
  public static MLReader<ScoreToProbability> read() {
    return new DefaultParamsReader<>();
  }

  public Param<String> inputCol() {
    return inputCol;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public ScoreToProbability setInputCol(String value) {
    set(inputCol, value);
    return this;
  }

  public ScoreToProbability setOutputCol(String value) {
    set(outputCol, value);
    return this;
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    Column p = least(greatest(col($(inputCol)).cast("double"), lit(0.0)), lit(1.0));
    return dataset.withColumn($(outputCol), array_to_vector(array(lit(1.0).minus(p), p)));
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return PlattScalingModel.withVector(schema, $(outputCol));
  }

  @Override
  public ScoreToProbability copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public String uid() {
    return uid;
  }
}
