package dev.propensity.jobs.training;

import dev.propensity.jobs.model.CandidatePipeline;

import static org.apache.spark.sql.functions.col;

import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.spark.Materialized;
import dev.propensity.jobs.model.CandidatePipeline.FeatureSelection;
import dev.propensity.jobs.model.CandidatePipeline.Scaling;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The preprocessed cross-validation folds, shared by the candidates that need the same scaling:
 * for fold f the preprocessing (imputation, encoding, selection, scaling) is fitted on the other
 * folds only, applied to all training rows and kept (locally checkpointed, or cached: {@link
 * Materialized}). Fitted once per scaling kind rather than once per candidate; the caller releases
 * a kind after its last candidate.
 */
final class FoldData implements AutoCloseable {

  /**
   * @param data per fold: the training rows with the label, fold, weight and hold-out columns and
   *     {@code featuresCol}, preprocessed as fitted without that fold
   * @param sizes per fold: the length of the feature vector
   */
  record Folds(List<Dataset<Row>> data, int[] sizes, String featuresCol) {

    /** @return fold f's rows with the features column renamed for a candidate's head */
    Dataset<Row> forCandidate(int fold, String candidate) {
      return data.get(fold).withColumnRenamed(featuresCol,
          CandidatePipeline.featuresCol(candidate));
    }
  }

  /**
   * The refit rows preprocessed once for a scaling kind, for every candidate of that kind.
   *
   * @param model the preprocessing fitted on the refit rows, under this class's column prefix
   * @param data the refit rows' classifier columns and {@code featuresCol}
   * @param size the length of the feature vector
   */
  record Refit(PipelineModel model, Dataset<Row> data, int size, String featuresCol) {

    /** @return the rows with the features column renamed for a candidate's head */
    Dataset<Row> forCandidate(String candidate) {
      return data.withColumnRenamed(featuresCol, CandidatePipeline.featuresCol(candidate));
    }

    /** @return the fitted preprocessing with a candidate's column names ({@code target}'s) */
    PipelineModel modelFor(Pipeline target) {
      return CandidatePipeline.fittedAs(model, target);
    }
  }

  private final Dataset<Row> train;
  private final FeatureSchema schema;
  private final FeatureSelection selection;
  private final int folds;
  private final boolean checkpoint;
  private final Column[] kept;
  private final Map<Scaling, Folds> cached = new EnumMap<>(Scaling.class);
  private final Map<Scaling, Refit> refits = new EnumMap<>(Scaling.class);
  // refits of rows other than the kept ones: not shared, released on close
  private final List<Dataset<Row>> unshared = new ArrayList<>();
  private Dataset<Row> refitRows;

  /**
   * @param train training rows with {@link CandidatePipeline#LABEL}, {@link CandidatePipeline#FOLD}
   *     and {@link CandidatePipeline#GBT_VALIDATION}, and {@link CandidatePipeline#WEIGHT} if used
   * @param checkpoint keep the preprocessed folds as local checkpoints rather than cached
   *     ({@code propensity.train.cv.local-checkpoint})
   */
  FoldData(Dataset<Row> train, FeatureSchema schema, FeatureSelection selection, int folds,
      boolean checkpoint) {
    this.train = train;
    this.schema = schema;
    this.selection = selection;
    this.folds = folds;
    this.checkpoint = checkpoint;
    this.kept = classifierColumns(train, schema.idColumn());
  }

  /**
   * @return the columns of training (or refit) rows a classifier may read besides its features:
   *     id, label, and fold, hold-out and weight where present
   */
  static Column[] classifierColumns(Dataset<Row> rows, String idColumn) {
    List<String> present = Arrays.asList(rows.columns());
    return Stream.of(idColumn, CandidatePipeline.LABEL, CandidatePipeline.FOLD,
            CandidatePipeline.GBT_VALIDATION, CandidatePipeline.WEIGHT)
        .filter(present::contains).map(c -> col(c)).toArray(Column[]::new);
  }

  int folds() {
    return folds;
  }

  /** @return the folds preprocessed for {@code scaling}, fitting them on first use */
  synchronized Folds get(Scaling scaling) {
    return cached.computeIfAbsent(scaling, this::build);
  }

  /**
   * @param rows the rows the final models are fitted on; the same rows for every call of one
   *     FoldData (other rows are preprocessed afresh and not kept)
   * @param idColumn the id column, kept for the classifier
   * @return the refit rows preprocessed for {@code scaling}, fitted on first use: candidates of
   *     one scaling kind fit the same preprocessing on the same rows
   */
  synchronized Refit refit(Scaling scaling, Dataset<Row> rows, String idColumn) {
    if (refitRows != null && refitRows != rows) {
      Refit other = buildRefit(scaling, rows, idColumn, "__refit_other");
      unshared.add(other.data());
      return other;
    }
    refitRows = rows;
    return refits.computeIfAbsent(scaling, k -> buildRefit(k, rows, idColumn,
        "__refit_" + k.name().toLowerCase(Locale.ROOT)));
  }

  /** Drops the cached folds and refit rows of one scaling kind. */
  synchronized void release(Scaling scaling) {
    Folds f = cached.remove(scaling);
    if (f != null) {
      f.data().forEach(Materialized::release);
    }
    Refit r = refits.remove(scaling);
    if (r != null) {
      Materialized.release(r.data());
    }
  }

  @Override
  public synchronized void close() {
    Stream.concat(cached.keySet().stream(), refits.keySet().stream()).distinct().toList()
        .forEach(this::release);
    unshared.forEach(Materialized::release);
    unshared.clear();
  }

  private Refit buildRefit(Scaling scaling, Dataset<Row> rows, String idColumn, String prefix) {
    String features = CandidatePipeline.featuresCol(prefix);
    Prepared p = prepare(CandidatePipeline.preprocessing(prefix, schema, scaling, selection),
        rows, null, classifierColumns(rows, idColumn), features);
    return new Refit(p.model(), p.data(), p.size(features), features);
  }

  private Folds build(Scaling scaling) {
    String prefix = "__cv_" + scaling.name().toLowerCase(Locale.ROOT);
    String features = CandidatePipeline.featuresCol(prefix);
    List<Dataset<Row>> data = new ArrayList<>();
    int[] sizes = new int[folds];
    for (int f = 0; f < folds; f++) {
      Prepared p = prepare(CandidatePipeline.preprocessing(prefix, schema, scaling, selection),
          train, col(CandidatePipeline.FOLD).notEqual(f), kept, features);
      data.add(p.data());
      sizes[f] = p.size(features);
    }
    return new Folds(data, sizes, features);
  }

  /** A fitted preprocessing and the rows it made, kept ({@link Materialized}). */
  private record Prepared(PipelineModel model, Dataset<Row> data) {

    /** @return the length of the feature vector in column {@code features} */
    int size(String features) {
      return data.select(features).first().<Vector>getAs(0).size();
    }
  }

  /**
   * Fits {@code pipeline} on the rows of {@code rows} where {@code fitWhere} holds (all when
   * null) and keeps {@code rows} transformed: the columns {@code kept} and {@code features}
   * (only what the classifier reads: the raw and intermediate columns would be kept too).
   *
   * <p>With local checkpoints, the stages after the assembly (the scaler, a feature selector)
   * are fitted on the kept assembled rows rather than through the imputation and encoding once
   * more: a pass over materialised vectors instead of over the raw table. The same rows in the
   * same partitions and order reach them, so they learn the same numbers.
   */
  private Prepared prepare(Pipeline pipeline, Dataset<Row> rows, Column fitWhere, Column[] kept,
      String features) {
    PipelineStage[] stages = pipeline.getStages();
    int assembler = -1;
    for (int i = 0; i < stages.length; i++) {
      if (stages[i] instanceof VectorAssembler) {
        assembler = i;
      }
    }
    boolean fittedAfter = assembler >= 0 && Arrays.stream(stages, assembler + 1, stages.length)
        .anyMatch(st -> st instanceof Estimator<?>);
    if (!checkpoint || !fittedAfter) {
      PipelineModel model = pipeline.fit(fitWhere == null ? rows : rows.where(fitWhere));
      return new Prepared(model, Materialized.of(model.transform(rows)
          .select(withColumn(kept, features)), checkpoint));
    }
    PipelineModel encoding = new Pipeline().setStages(Arrays.copyOf(stages, assembler + 1))
        .fit(fitWhere == null ? rows : rows.where(fitWhere));
    String assembled = ((VectorAssembler) stages[assembler]).getOutputCol();
    Dataset<Row> encoded = Materialized.of(encoding.transform(rows)
        .select(withColumn(kept, assembled)), true);
    try {
      PipelineModel rest = new Pipeline()
          .setStages(Arrays.copyOfRange(stages, assembler + 1, stages.length))
          .fit(fitWhere == null ? encoded : encoded.where(fitWhere));
      Dataset<Row> data = Materialized.of(rest.transform(encoded)
          .select(withColumn(kept, features)), true);
      Transformer[] all = Stream.concat(Arrays.stream(encoding.stages()),
          Arrays.stream(rest.stages())).toArray(Transformer[]::new);
      return new Prepared(new PipelineModel(pipeline.uid(), all), data);
    } finally {
      Materialized.release(encoded);
    }
  }

  private static Column[] withColumn(Column[] columns, String column) {
    Column[] out = Arrays.copyOf(columns, columns.length + 1);
    out[columns.length] = col(column);
    return out;
  }
}
