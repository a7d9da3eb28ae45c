package dev.propensity.jobs.monitoring;

import dev.propensity.jobs.model.RunLayout;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.propensity.common.psi.PsiBaseline;
import dev.propensity.common.psi.SparkPsi;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.model.Ensemble;
import dev.propensity.jobs.model.Splits;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training baseline drift is measured against, stored in the run folder as
 * {@code drift/baseline.json}: for every model feature and for the score ({@code propensity}),
 * the decile edges (numeric) or categories (categorical) of the run's training rows and their
 * counts. Computed from the rows the run pinned (manifest: table version, snapshot, split seed),
 * so it can be written when the run completes or later, with the same result.
 */
public final class DriftBaseline {

  private static final Logger LOG = LoggerFactory.getLogger(DriftBaseline.class);

  /** The baseline file in a run folder. */
  public static final String FILE = RunLayout.DRIFT_BASELINE;

  /** Quantile buckets of numeric columns: deciles. */
  public static final int BUCKETS = 10;

  /** The name the score has in the baseline and in {@code drift_report}. */
  public static final String SCORE = "propensity";

  /**
   * What the file holds.
   *
   * @param runId the run
   * @param createdAt when the baseline was computed (ISO-8601)
   * @param source the rows it was computed from
   * @param rows the number of training rows
   * @param buckets quantile buckets of numeric columns
   * @param columns one baseline per feature, then the score's
   */
  public record Stored(String runId, String createdAt, String source, long rows, int buckets,
      List<PsiBaseline> columns) {

    /** @return the baselines of the features (without the score) */
    public List<PsiBaseline> features() {
      return columns.stream().filter(c -> !SCORE.equals(c.column())).toList();
    }

    /** @return the score's baseline */
    public Optional<PsiBaseline> score() {
      return columns.stream().filter(c -> SCORE.equals(c.column())).findFirst();
    }
  }

  private DriftBaseline() {}

  /**
   * Computes the baseline of every model feature and of the ensemble's score on the run's
   * training rows and writes it to {@code runs/<id>/drift/baseline.json} (replacing any). Call
   * it once a run's voters are chosen (the score needs them); the drift step also calls it when
   * the file is missing.
   *
   * @param spark the session
   * @param warehouse the warehouse holding the run's feature table
   * @param schema the feature schema the run was trained with
   * @param run the run, with {@code voters.json} written
   * @return what was written
   */
  public static Stored writeBaseline(SparkSession spark, Warehouse warehouse,
      FeatureSchema schema, ModelRun run) {
    long start = System.nanoTime();
    Ensemble ensemble = Ensemble.load(run);
    List<Column> inputs = schema.features().stream().map(c -> col(c)).toList();
    Dataset<Row> train = RunData.splitRows(warehouse, schema, run)
        .where(col("__split").equalTo(Splits.TRAIN))
        .select(inputs.toArray(new Column[0]));
    List<Column> kept = new ArrayList<>(inputs);
    kept.add(col("propensity").as(SCORE));
    Dataset<Row> scored = ensemble.score(train).select(kept.toArray(new Column[0]))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      List<String> numeric = new ArrayList<>(schema.numeric());
      numeric.add(SCORE);
      List<PsiBaseline> columns = SparkPsi.baseline(scored, numeric, schema.categorical(),
          BUCKETS);
      // numeric first, then categorical, the score last: the report's order
      List<PsiBaseline> ordered = new ArrayList<>(columns.stream()
          .filter(c -> !SCORE.equals(c.column())).toList());
      columns.stream().filter(c -> SCORE.equals(c.column())).forEach(ordered::add);
      long rows = ordered.get(0).counts().stream().mapToLong(Long::longValue).sum();
      Stored stored = new Stored(run.id(), Instant.now().toString(),
          "train split of the run's pinned input (runs/" + run.id() + "/" + RunLayout.MANIFEST + ")", rows,
          BUCKETS, ordered);
      run.writeJson(FILE, stored);
      LOG.info("drift: baseline of run {} from {} training rows, {} columns, in {} s", run.id(),
          rows, ordered.size(), Math.round((System.nanoTime() - start) / 1e9));
      return stored;
    } finally {
      scored.unpersist();
    }
  }

  /** @return the run's stored baseline, if written */
  public static Optional<Stored> read(ModelRun run) {
    if (!run.exists(FILE)) {
      return Optional.empty();
    }
    return Optional.of(run.readJson(FILE, new TypeReference<Stored>() {}));
  }

  /** @return the run's baseline, computed and written first when missing */
  public static Stored readOrWrite(SparkSession spark, Warehouse warehouse, FeatureSchema schema,
      ModelRun run) {
    Optional<Stored> stored = read(run);
    if (stored.isPresent()) {
      return stored.get();
    }
    LOG.info("drift: run {} has no {} yet; computing it from its training rows", run.id(), FILE);
    return writeBaseline(spark, warehouse, schema, run);
  }
}
