package dev.propensity.jobs.training;

import dev.propensity.jobs.model.CandidateDescription;
import dev.propensity.jobs.model.CandidatePipeline;

import static org.apache.spark.sql.functions.col;

import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.spark.Materialized;
import dev.propensity.jobs.model.CandidatePipeline.FeatureSelection;
import dev.propensity.jobs.model.CandidatePipeline.Scaling;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The preprocessed cross-validation folds, shared by the candidates: for fold f the preprocessing
 * (imputation, encoding, selection, scaling) is fitted on the other folds only and applied to all
 * training rows. The encoding (every stage up to the assembled vector) is the same for every
 * scaling kind: it is fitted once per fold and its rows kept (locally checkpointed, or cached:
 * {@link Materialized}); a scaling kind's folds are its scaler (and selector) fitted on those kept
 * rows and applied as they are read, a projection, not another copy. The same for the refit rows.
 * Everything kept is released on close.
 */
final class FoldData implements AutoCloseable {

  /**
   * @param data per fold: the training rows with the label, fold, weight and hold-out columns and
   *     {@code featuresCol}, preprocessed as fitted without that fold
   * @param sizes per fold: the length of the feature vector
   * @param rows per fold: its number of rows
   * @param unscaled per fold, its rows before the scaler, or null when a fold's features are not
   *     one standard scaling of its encoding
   */
  record Folds(List<Dataset<Row>> data, int[] sizes, String featuresCol, long[] rows,
      List<Unscaled> unscaled) {

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
   * @param unscaled the rows before the scaler, or null (see {@link Folds})
   */
  record Refit(PipelineModel model, Dataset<Row> data, int size, String featuresCol,
      Unscaled unscaled) {

    /** @return the rows with the features column renamed for a candidate's head */
    Dataset<Row> forCandidate(String candidate) {
      return data.withColumnRenamed(featuresCol, CandidatePipeline.featuresCol(candidate));
    }

    /** @return the fitted preprocessing with a candidate's column names ({@code target}'s) */
    PipelineModel modelFor(Pipeline target) {
      return CandidatePipeline.fittedAs(model, target);
    }
  }

  /**
   * Rows as they are before a standard scaler makes their features: the kept encoded rows, the
   * same rows in the same partitions and order as the scaled ones. A trainer that scales as it
   * reads ({@code SharedLogistic}) holds these, whose one-hot slots and counts pack smaller.
   *
   * @param data the classifier columns and {@code column}, the encoded vector
   * @param scaler the fitted scaler that makes the features from {@code column}
   */
  record Unscaled(Dataset<Row> data, String column, StandardScalerModel scaler) {}

  private final Dataset<Row> train;
  private final FeatureSchema schema;
  private final FeatureSelection selection;
  private final int folds;
  private final boolean checkpoint;
  private final Column[] kept;
  private final Map<Scaling, Folds> cached = new EnumMap<>(Scaling.class);
  private final Map<Scaling, Refit> refits = new EnumMap<>(Scaling.class);
  // per fold, the encoding fitted without it and all training rows encoded
  private final Map<Integer, Encoded> encodedFolds = new HashMap<>();
  private Encoded encodedRefit;
  // encodings of rows other than the refit rows: not shared, released on close
  private final List<Encoded> unshared = new ArrayList<>();
  private Dataset<Row> refitRows;
  private long[] foldRows;

  /**
   * @param train training rows with {@link CandidatePipeline#LABEL}, {@link CandidatePipeline#FOLD}
   *     and {@link CandidatePipeline#GBT_VALIDATION}, and {@link CandidatePipeline#WEIGHT} if used
   * @param checkpoint keep the preprocessed folds as local checkpoints rather than cached
   *     ({@code propensity.train.cv.local-checkpoint})
   */
  FoldData(Dataset<Row> train, FeatureSchema schema, FeatureSelection selection, int folds,
      boolean checkpoint) {
    this(train, schema, selection, folds, checkpoint, null);
  }

  /**
   * @param foldRows per fold, its number of rows when the caller has counted them (null: counted
   *     here when first asked, {@link #rows})
   */
  FoldData(Dataset<Row> train, FeatureSchema schema, FeatureSelection selection, int folds,
      boolean checkpoint, long[] foldRows) {
    this.foldRows = foldRows == null ? null : foldRows.clone();
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

  /** @return the number of training rows in fold {@code fold} (its held-out rows in CV) */
  synchronized long rows(int fold) {
    if (foldRows == null) {
      long[] counts = new long[folds];
      for (Row r : train.groupBy(CandidatePipeline.FOLD).count().collectAsList()) {
        counts[r.getInt(0)] = r.getLong(1);
      }
      foldRows = counts;
    }
    return foldRows[fold];
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
    Column[] columns = classifierColumns(rows, idColumn);
    if (refitRows != null && refitRows != rows) {
      Encoded other = encode(rows, null, columns);
      unshared.add(other);
      return buildRefit(scaling, other, "__refit_other");
    }
    refitRows = rows;
    if (encodedRefit == null) {
      encodedRefit = encode(rows, null, columns);
    }
    return refits.computeIfAbsent(scaling, k -> buildRefit(k, encodedRefit,
        "__refit_" + k.name().toLowerCase(Locale.ROOT)));
  }

  /**
   * Forgets the folds and refit rows of one scaling kind (its scaler and selector): the encoded
   * rows they read stay kept for the other kinds until {@link #close}.
   */
  synchronized void release(Scaling scaling) {
    cached.remove(scaling);
    refits.remove(scaling);
  }

  /** Releases every kept row set. */
  @Override
  public synchronized void close() {
    cached.clear();
    refits.clear();
    Stream.concat(Stream.concat(encodedFolds.values().stream(), Stream.ofNullable(encodedRefit)),
        unshared.stream()).forEach(e -> Materialized.release(e.data()));
    encodedFolds.clear();
    encodedRefit = null;
    unshared.clear();
  }

  private Refit buildRefit(Scaling scaling, Encoded encoded, String prefix) {
    String features = CandidatePipeline.featuresCol(prefix);
    Prepared p = prepare(CandidatePipeline.preprocessing(prefix, schema, scaling, selection),
        encoded, null, features);
    return new Refit(p.model(), p.data(), p.size(features), features, p.unscaled());
  }

  private Folds build(Scaling scaling) {
    String prefix = "__cv_" + scaling.name().toLowerCase(Locale.ROOT);
    String features = CandidatePipeline.featuresCol(prefix);
    List<Dataset<Row>> data = new ArrayList<>();
    List<Unscaled> unscaled = new ArrayList<>();
    int[] sizes = new int[folds];
    for (int f = 0; f < folds; f++) {
      Column fitWhere = col(CandidatePipeline.FOLD).notEqual(f);
      Encoded encoded = encodedFolds.computeIfAbsent(f, k -> encode(train, fitWhere, kept));
      Prepared p = prepare(CandidatePipeline.preprocessing(prefix, schema, scaling, selection),
          encoded, fitWhere, features);
      data.add(p.data());
      unscaled.add(p.unscaled());
      sizes[f] = p.size(features);
    }
    long[] rows = new long[folds];
    for (int f = 0; f < folds; f++) {
      rows[f] = rows(f);
    }
    return new Folds(data, sizes, features, rows,
        unscaled.contains(null) ? null : List.copyOf(unscaled));
  }

  /**
   * The encoding (imputation, categorical encoding, the assembled vector) fitted on some rows, and
   * rows encoded by it and kept: the same for every scaling kind.
   *
   * @param model the fitted stages up to the assembler, under {@link #ENCODING}'s column names
   * @param data the kept columns and {@code column}, the assembled vector
   */
  private record Encoded(PipelineModel model, Dataset<Row> data, String column) {}

  private static final String ENCODING = "__encoded";

  /**
   * Fits the encoding on the rows of {@code rows} where {@code fitWhere} holds (all when null)
   * and keeps every row of {@code rows} encoded: the columns {@code kept} and the vector.
   */
  private Encoded encode(Dataset<Row> rows, Column fitWhere, Column[] kept) {
    PipelineStage[] stages = CandidatePipeline.preprocessing(ENCODING, schema, Scaling.NONE,
        FeatureSelection.none()).getStages();
    int assembler = assemblerIndex(stages);
    PipelineModel model = new Pipeline().setStages(Arrays.copyOf(stages, assembler + 1))
        .fit(fitWhere == null ? rows : rows.where(fitWhere));
    String column = ((VectorAssembler) stages[assembler]).getOutputCol();
    return new Encoded(model, Materialized.of(model.transform(rows)
        .select(withColumn(kept, column)), checkpoint), column);
  }

  /**
   * A fitted preprocessing and the rows it makes (the kept encoded rows, completed), and those
   * rows before the scaler when the completion is one standard scaler (else null).
   */
  private record Prepared(PipelineModel model, Dataset<Row> data, Unscaled unscaled) {

    /** @return the length of the feature vector in column {@code features} */
    int size(String features) {
      return data.select(features).first().<Vector>getAs(0).size();
    }
  }

  /**
   * Completes {@code pipeline} on encoded rows: its encoding is the shared one under its own
   * column names, and the stages after the assembly (a selector, a scaler) are fitted on the kept
   * encoded rows where {@code fitWhere} holds. The rows it makes are the kept ones with those
   * stages applied as they are read: the same rows in the same partitions and order, so the
   * numbers are those of fitting the whole pipeline at once.
   */
  private static Prepared prepare(Pipeline pipeline, Encoded encoded, Column fitWhere,
      String features) {
    PipelineStage[] stages = pipeline.getStages();
    int assembler = assemblerIndex(stages);
    PipelineModel encoding = CandidatePipeline.fittedAs(encoded.model(),
        new Pipeline().setStages(Arrays.copyOf(stages, assembler + 1)));
    String assembled = ((VectorAssembler) stages[assembler]).getOutputCol();
    Dataset<Row> in = encoded.data().withColumnRenamed(encoded.column(), assembled);
    PipelineModel rest = new Pipeline()
        .setStages(Arrays.copyOfRange(stages, assembler + 1, stages.length))
        .fit(fitWhere == null ? in : in.where(fitWhere));
    List<Column> columns = new ArrayList<>();
    for (String c : encoded.data().columns()) {
      if (!c.equals(encoded.column())) {
        columns.add(col(c));
      }
    }
    columns.add(col(features));
    Dataset<Row> data = rest.transform(in).select(columns.toArray(Column[]::new));
    Transformer[] all = Stream.concat(Arrays.stream(encoding.stages()),
        Arrays.stream(rest.stages())).toArray(Transformer[]::new);
    // the stages after the assembly: a scaler, then the description (which keeps the rows)
    Transformer[] after = Arrays.stream(rest.stages())
        .filter(t -> !(t instanceof CandidateDescription)).toArray(Transformer[]::new);
    Unscaled unscaled = after.length == 1 && after[0] instanceof StandardScalerModel scaler
        ? new Unscaled(encoded.data(), encoded.column(), scaler) : null;
    return new Prepared(new PipelineModel(pipeline.uid(), all), data, unscaled);
  }

  private static int assemblerIndex(PipelineStage[] stages) {
    for (int i = stages.length - 1; i >= 0; i--) {
      if (stages[i] instanceof VectorAssembler) {
        return i;
      }
    }
    throw new IllegalArgumentException("A preprocessing without a VectorAssembler");
  }

  private static Column[] withColumn(Column[] columns, String column) {
    Column[] out = Arrays.copyOf(columns, columns.length + 1);
    out[columns.length] = col(column);
    return out;
  }
}
