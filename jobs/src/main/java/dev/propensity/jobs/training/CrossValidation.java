package dev.propensity.jobs.training;

import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.Metrics;
import dev.propensity.jobs.model.Candidates;
import dev.propensity.jobs.model.SharedLogistic;

import static org.apache.spark.sql.functions.col;

import dev.propensity.common.spark.Materialized;
import dev.propensity.jobs.model.Candidates.Candidate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Grid search with stratified k-fold cross-validation for one candidate. Written here rather than
 * with MLlib's CrossValidator because that one's folds are not stratified and it keeps neither the
 * per-fold metrics (for the spread), nor the out-of-fold predictions (for stacking), nor a time
 * budget.
 *
 * <p>The folds come preprocessed from {@link FoldData} (fitted without the held-out fold, shared
 * by candidates of the same scaling); each grid point fits the classifier on k - 1 folds and
 * scores the held-out one (folds in parallel, {@code cv.parallelism} at a time). Before each grid point after the first, the time
 * budget is checked; a grid cut short says so in the result. Only the fold models of the best grid
 * point so far are kept (to write its out-of-fold predictions), never all sub-models.
 *
 * <p>The logistic family with {@code propensity.train.logistic.shared-pass} (the default) instead
 * fits all grid points x folds together ({@link SharedLogistic}: one Spark pass per optimisation
 * step for all of them). The whole grid is then one unit of work: the time budget, checked
 * between grid points, cannot cut it short (as the first grid point of the other families, it
 * always runs), and each grid point's {@code seconds} is its share of the shared fit (its total over
 * the grid size) plus its own scoring.
 */
final class CrossValidation {

  private static final Logger LOG = LoggerFactory.getLogger(CrossValidation.class);

  /**
   * How to search, and where this candidate stands in the run (for the progress log).
   *
   * @param localCheckpoint keep the final model's preprocessed rows as a local checkpoint rather
   *     than cached ({@code propensity.train.cv.local-checkpoint}, see {@link Materialized})
   * @param sharedLogistic fit a logistic grid as one shared fit ({@link SharedLogistic},
   *     {@code propensity.train.logistic.shared-pass})
   * @param logisticDriverBytes the shared fit's passes run on the driver when its rows take at
   *     most this ({@code propensity.train.logistic.driver-max-mib}); 0: as Spark jobs
   */
  record Settings(int folds, int parallelism, boolean localCheckpoint, double budgetSeconds,
      String metric, String idColumn, int candidateIndex, int candidates, long runStartNanos,
      boolean sharedLogistic, long logisticDriverBytes) {

    /** With the logistic family's shared pass on as Spark jobs. */
    Settings(int folds, int parallelism, boolean localCheckpoint, double budgetSeconds,
        String metric, String idColumn, int candidateIndex, int candidates, long runStartNanos) {
      this(folds, parallelism, localCheckpoint, budgetSeconds, metric, idColumn, candidateIndex,
          candidates, runStartNanos, true, 0);
    }
  }

  /** One evaluated grid point. */
  record GridResult(int index, Map<String, Object> params, double[] foldMetrics, double mean,
      double std, double seconds) {

    /** @return grid point {@code index}'s result: the mean and spread of its fold metrics */
    static GridResult of(int index, ParamMap point, double[] foldMetrics, double seconds) {
      double mean = Arrays.stream(foldMetrics).average().orElse(Double.NaN);
      double std = Math.sqrt(Arrays.stream(foldMetrics).map(x -> (x - mean) * (x - mean))
          .average().orElse(0));
      return new GridResult(index, Candidates.describe(point), foldMetrics, mean, std, seconds);
    }
  }

  /**
   * @param evaluated the grid points evaluated, in grid order
   * @param gridPoints the size of the whole grid
   * @param best the index in {@code evaluated} of the best mean
   * @param budgetExhausted whether the time budget stopped the grid early
   * @param model the whole pipeline (preprocessing + classifier) refitted with the best grid
   *     point on the refit rows (the training split, or more: {@code propensity.train.refit})
   * @param params the best grid point as fitted on all rows
   */
  record Result(List<GridResult> evaluated, int gridPoints, int best, boolean budgetExhausted,
      PipelineModel model, Map<String, Object> params, double cvSeconds, double refitSeconds) {

    GridResult bestResult() {
      return evaluated.get(best);
    }
  }

  private CrossValidation() {}

  /** As below, the final model refitted on the training rows themselves. */
  static Result run(Candidate candidate, FoldData foldData, Pipeline preprocessing,
      Dataset<Row> train, Settings s, Consumer<Dataset<Row>> oofSink) {
    return run(candidate, foldData, preprocessing, train, train, s, oofSink);
  }

  /**
   * @param train training rows with {@link CandidatePipeline#LABEL}, {@link CandidatePipeline#FOLD}
   *     and, when used, the weight and GBT hold-out columns; best cached by the caller
   * @param refitRows the rows the final model is fitted on (the training rows, or more with
   *     {@code propensity.train.refit}), with the same derived columns
   * @param oofSink receives the out-of-fold predictions of the best grid point (id, fold, label,
   *     probability) while the folds are still cached, e.g. to write them
   */
  static Result run(Candidate candidate, FoldData foldData, Pipeline preprocessing,
      Dataset<Row> train, Dataset<Row> refitRows, Settings s, Consumer<Dataset<Row>> oofSink) {
    long start = System.nanoTime();
    String name = candidate.name();
    FoldData.Folds folds = foldData.get(candidate.scaling());
    int k = foldData.folds();
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(s.parallelism(), k)));
    try {
      int m = candidate.grid().length;
      LogisticRegression lr = sharedLogistic(candidate, s);
      Grid grid = lr != null ? shared(candidate, lr, folds, k, s, start, pool)
          : perPoint(candidate, folds, k, s, start, pool);
      List<GridResult> evaluated = grid.evaluated();
      int best = grid.best();
      boolean exhausted = grid.exhausted();
      oofSink.accept(outOfFold(folds, grid.bestModels(), name, s.idColumn()));
      double cvSeconds = seconds(start);

      long refitStart = System.nanoTime();
      refitRows.sparkSession().sparkContext().setJobDescription("train: " + name + " refit");
      // preprocessed once per scaling kind: the candidates of one kind share it
      FoldData.Refit refit = foldData.refit(candidate.scaling(), refitRows, s.idColumn());
      PipelineModel prep = refit.modelFor(preprocessing);
      Dataset<Row> all = refit.forCandidate(name);
      int size = refit.size();
      ParamMap point = candidate.resolve(evaluated.get(best).index(), size);
      PipelineModel head = lr != null
          ? sharedRefit(candidate, lr, point, all, refit.unscaled(), name, grid.bestModels(),
              size, s.logisticDriverBytes())
          : candidate.head().fit(all, refitPoint(candidate, point, Math.min(s.parallelism(), k),
              all.sparkSession().sparkContext()));
      // one flat saved model, described (CandidateDescription) as its last stage
      PipelineModel whole = CandidatePipeline.whole(candidate, prep, head);
      return new Result(evaluated, m, best, exhausted, whole, Candidates.describe(point),
          cvSeconds, seconds(refitStart));
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * The final logistic model through the same trainer as its grid ({@link SharedLogistic}, one
   * task on all refit rows): one Spark pass per optimisation step, as MLlib's estimator but without
   * its per-iteration job set-up, to the same optimum within the tolerance. It starts at the mean
   * of the chosen point's fold models (near the optimum: their rows are most of the refit's), so
   * it takes a fraction of a cold start's iterations.
   */
  private static PipelineModel sharedRefit(Candidate candidate, LogisticRegression lr,
      ParamMap point, Dataset<Row> all, FoldData.Unscaled unscaled, String name,
      PipelineModel[] foldModels, int size, long driverMaxBytes) {
    LogisticRegression estimator = (LogisticRegression) lr.copy(point);
    SharedLogistic.Task task = SharedLogistic.Task.of(0, -1, estimator);
    double[] start = meanOfFolds(foldModels, size);
    LogisticInputs in = LogisticInputs.of(List.of(all),
        unscaled == null ? null : List.of(unscaled), columns(estimator, null));
    SharedLogistic.Result fit = SharedLogistic.fit(in.data(), in.columns(),
        List.of(start == null ? task : task.startingAt(start)), "candidate " + name + " refit",
        driverMaxBytes);
    return new PipelineModel(candidate.head().uid(), new Transformer[] {
        SharedLogistic.model(estimator, fit.fits().get(0))});
  }

  /**
   * The grid point for the refit, which trains alone where cross-validation trained {@code
   * concurrent} folds at once: a classifier that trains on Spark workers (XGBoost's {@code
   * numWorkers}) gets the workers those folds used together, at most the task slots of the
   * cluster, so that the refit keeps the cores busy that the folds did (one worker of one thread
   * by default in local[2] leaves a core idle for the longest fit of the family).
   */
  static ParamMap refitPoint(Candidate candidate, ParamMap point, int concurrent,
      SparkContext sc) {
    int slots = Math.max(1, sc.defaultParallelism() / sc.getConf().getInt("spark.task.cpus", 1));
    ParamMap out = point.copy();
    for (PipelineStage stage : candidate.head().getStages()) {
      if (stage.hasParam("numWorkers")) {
        Param<Object> param = stage.getParam("numWorkers");
        int workers = (Integer) (point.contains(param) ? point.apply(param)
            : stage.getOrDefault(param));
        int refit = Math.max(workers, Math.min(workers * concurrent, slots));
        if (refit != workers) {
          out.put(param, refit);
          LOG.info("train: candidate {} refit on {} workers ({} per fold, {} folds at once in"
              + " cross-validation, {} task slots)", candidate.name(), refit, workers,
              concurrent, slots);
        }
      }
    }
    return out;
  }

  /**
   * @return the mean coefficients, then intercept, of the fold models, or null when one of them
   *     has another width (its fold's encoding saw other categories) or an infinite intercept
   */
  private static double[] meanOfFolds(PipelineModel[] foldModels, int size) {
    double[] mean = new double[size + 1];
    for (PipelineModel fold : foldModels) {
      LogisticRegressionModel m = (LogisticRegressionModel) fold.stages()[
          fold.stages().length - 1];
      if (m.coefficients().size() != size || !Double.isFinite(m.intercept())) {
        return null;
      }
      double[] c = m.coefficients().toArray();
      for (int j = 0; j < size; j++) {
        mean[j] += c[j] / foldModels.length;
      }
      mean[size] += m.intercept() / foldModels.length;
    }
    return mean;
  }

  /** @return the columns a shared fit of {@code lr} reads; fold null: every row */
  private static SharedLogistic.Columns columns(LogisticRegression lr, String fold) {
    String weight = lr.isDefined(lr.weightCol()) && !lr.getWeightCol().isEmpty()
        ? lr.getWeightCol() : null;
    return new SharedLogistic.Columns(lr.getFeaturesCol(), lr.getLabelCol(), weight, fold);
  }

  /**
   * The data sets a shared logistic fit reads: the rows before their standard scaler, with it,
   * when every data set has one ({@link FoldData.Unscaled}: held unscaled they pack smaller and are
   * scaled as read, to the same features), else the scaled rows.
   */
  private record LogisticInputs(List<Dataset<Row>> data, SharedLogistic.Columns columns) {

    /** @param unscaled per data set its unscaled rows, or null when one has none */
    static LogisticInputs of(List<Dataset<Row>> scaled, List<FoldData.Unscaled> unscaled,
        SharedLogistic.Columns columns) {
      if (unscaled == null
          || unscaled.stream().map(FoldData.Unscaled::column).distinct().count() != 1) {
        return new LogisticInputs(scaled, columns);
      }
      List<SharedLogistic.Scaler> scalers = unscaled.stream()
          .map(u -> SharedLogistic.Scaler.of(u.scaler())).toList();
      if (scalers.stream().anyMatch(Objects::isNull)) {
        return new LogisticInputs(scaled, columns);
      }
      return new LogisticInputs(unscaled.stream().map(FoldData.Unscaled::data).toList(),
          new SharedLogistic.Columns(unscaled.get(0).column(), columns.label(), columns.weight(),
              columns.fold(), scalers));
    }
  }

  /** The evaluated grid, its best point and that point's fold models. */
  private record Grid(List<GridResult> evaluated, int best, PipelineModel[] bestModels,
      boolean exhausted) {}

  /** Grid point after grid point, the folds of each in parallel, the budget checked between. */
  private static Grid perPoint(Candidate candidate, FoldData.Folds folds, int k, Settings s,
      long start, ExecutorService pool) {
    String name = candidate.name();
    int m = candidate.grid().length;
    List<GridResult> evaluated = new ArrayList<>();
    PipelineModel[] bestModels = null;
    int best = -1;
    boolean exhausted = false;
    for (int j = 0; j < m; j++) {
      double elapsed = seconds(start);
      if (j > 0 && s.budgetSeconds() > 0 && elapsed >= s.budgetSeconds()) {
        exhausted = true;
        LOG.warn("train: candidate {} of {} ({}): time budget of {} s used up after {} s;"
                + " stopping the grid after {} of {} points", s.candidateIndex(),
            s.candidates(), name, s.budgetSeconds(), Math.round(elapsed), j, m);
        break;
      }
      long pointStart = System.nanoTime();
      PipelineModel[] models = new PipelineModel[k];
      double[] metrics = new double[k];
      List<Future<?>> running = new ArrayList<>();
      for (int f = 0; f < k; f++) {
        int fold = f;
        ParamMap point = candidate.resolve(j, folds.sizes()[f]);
        String step = String.format("train: %s grid point %d/%d fold %d/%d", name, j + 1, m,
            f + 1, k);
        running.add(pool.submit(() -> {
          Dataset<Row> d = folds.forCandidate(fold, name);
          d.sparkSession().sparkContext().setJobDescription(step); // the Spark UI's job name
          Column inFold = col(CandidatePipeline.FOLD).equalTo(fold);
          PipelineModel model = candidate.head().fit(d.where(functions.not(inFold)), point);
          metrics[fold] = Metrics.cvMetric(model.transform(d.where(inFold)),
              CandidatePipeline.positiveProbability(name), CandidatePipeline.LABEL, s.metric(),
              folds.rows()[fold]);
          models[fold] = model;
        }));
      }
      await(running);
      GridResult r = GridResult.of(j, candidate.grid()[j], metrics, seconds(pointStart));
      evaluated.add(r);
      if (best < 0 || r.mean() > evaluated.get(best).mean()) {
        best = evaluated.size() - 1;
        bestModels = models;
      }
      // the rest of the grid at the mean pace of the points so far
      long left = Math.round(seconds(start) / (j + 1) * (m - j - 1));
      LOG.info("train: candidate {} of {} ({}), grid point {} of {} {}: cv {} {} +- {}"
              + " in {} s; elapsed {} s (run {} s), about {} s left for this grid",
          s.candidateIndex(), s.candidates(), name, j + 1, m, r.params(), s.metric(),
          String.format("%.4f", r.mean()), String.format("%.4f", r.std()), Math.round(r.seconds()),
          Math.round(seconds(start)), Math.round(seconds(s.runStartNanos())), left);
    }
    return new Grid(evaluated, best, bestModels, exhausted);
  }

  /** @return the grid's logistic regression when the shared pass fits it, else null */
  private static LogisticRegression sharedLogistic(Candidate candidate, Settings s) {
    PipelineStage[] stages = candidate.head().getStages();
    if (!s.sharedLogistic() || stages.length != 1
        || !(stages[0] instanceof LogisticRegression lr)) {
      return null;
    }
    for (ParamMap point : candidate.grid()) {
      if (!SharedLogistic.supports((LogisticRegression) lr.copy(point))) {
        return null;
      }
    }
    return lr;
  }

  /**
   * All grid points x folds in one shared fit (one Spark pass per optimisation step), then each
   * point's folds scored as in {@link #perPoint}. The budget cannot stop a grid that is one unit.
   */
  private static Grid shared(Candidate candidate, LogisticRegression lr, FoldData.Folds folds,
      int k, Settings s, long start, ExecutorService pool) {
    String name = candidate.name();
    int m = candidate.grid().length;
    LogisticRegression[][] estimators = new LogisticRegression[m][k];
    List<SharedLogistic.Task> tasks = new ArrayList<>();
    for (int j = 0; j < m; j++) {
      for (int f = 0; f < k; f++) {
        estimators[j][f] = (LogisticRegression) lr.copy(candidate.resolve(j, folds.sizes()[f]));
        tasks.add(SharedLogistic.Task.of(f, f, estimators[j][f]));
      }
    }
    List<Dataset<Row>> data = new ArrayList<>();
    for (int f = 0; f < k; f++) {
      data.add(folds.forCandidate(f, name));
    }
    LogisticInputs in = LogisticInputs.of(data, folds.unscaled(),
        columns(lr, CandidatePipeline.FOLD));
    SharedLogistic.Result fit = SharedLogistic.fit(in.data(), in.columns(), tasks,
        "candidate " + name, s.logisticDriverBytes());
    List<SharedLogistic.HeldOut> held = fit.heldOut() != null ? fit.heldOut()
        : scoredByFold(folds, lr, fit, m, k, name, s.metric());
    List<GridResult> evaluated = new ArrayList<>();
    PipelineModel[] bestModels = null;
    int best = -1;
    for (int j = 0; j < m; j++) {
      long pointStart = System.nanoTime();
      PipelineModel[] models = new PipelineModel[k];
      double[] metrics = new double[k];
      List<Future<?>> running = new ArrayList<>();
      for (int f = 0; f < k; f++) {
        int fold = f;
        models[f] = new PipelineModel(candidate.head().uid(), new Transformer[] {
            SharedLogistic.model(estimators[j][f], fit.fits().get(j * k + f))});
        SharedLogistic.HeldOut heldOut = held == null ? null : held.get(j * k + f);
        if (heldOut != null && "auc_roc".equals(s.metric())) {
          // held-out rows scored on the driver, or all grid points at once (scoredByFold)
          metrics[f] = Metrics.aucRoc(heldOut.probability(), heldOut.label());
          continue;
        }
        String step = String.format("train: %s grid point %d/%d fold %d/%d (scoring)", name,
            j + 1, m, f + 1, k);
        running.add(pool.submit(() -> {
          Dataset<Row> d = folds.forCandidate(fold, name);
          d.sparkSession().sparkContext().setJobDescription(step);
          metrics[fold] = Metrics.cvMetric(
              models[fold].transform(d.where(col(CandidatePipeline.FOLD).equalTo(fold))),
              CandidatePipeline.positiveProbability(name), CandidatePipeline.LABEL, s.metric(),
              folds.rows()[fold]);
        }));
      }
      await(running);
      GridResult r = GridResult.of(j, candidate.grid()[j], metrics,
          fit.seconds() / m + seconds(pointStart));
      evaluated.add(r);
      if (best < 0 || r.mean() > evaluated.get(best).mean()) {
        best = evaluated.size() - 1;
        bestModels = models;
      }
      LOG.info("train: candidate {} of {} ({}), grid point {} of {} {}: cv {} {} +- {}"
              + " (shared fit); elapsed {} s (run {} s)", s.candidateIndex(), s.candidates(),
          name, j + 1, m, r.params(), s.metric(), String.format("%.4f", r.mean()),
          String.format("%.4f", r.std()), Math.round(seconds(start)),
          Math.round(seconds(s.runStartNanos())));
    }
    return new Grid(evaluated, best, bestModels, false);
  }

  /**
   * Each fold's held-out rows scored by every grid point's model of that fold in one Spark job
   * ({@link SharedLogistic#score}): three reads of the held-out rows at three folds, where
   * scoring each (grid point, fold) apart takes one read each. Only for {@code auc_roc} and when
   * a fold's scores take at most a sixteenth of the driver's heap; else null (scored apart).
   *
   * @return per task (grid point j, fold f at {@code j * k + f}) its held-out rows scored, or null
   */
  private static List<SharedLogistic.HeldOut> scoredByFold(FoldData.Folds folds,
      LogisticRegression lr, SharedLogistic.Result fit, int m, int k, String name,
      String metric) {
    long limit = Runtime.getRuntime().maxMemory() / 16;
    if (!"auc_roc".equals(metric)
        || Arrays.stream(folds.rows()).anyMatch(n -> 8 * (m + 1) * n > limit)) {
      return null;
    }
    SharedLogistic.HeldOut[] out = new SharedLogistic.HeldOut[m * k];
    for (int f = 0; f < k; f++) {
      List<SharedLogistic.Fit> fits = new ArrayList<>();
      for (int j = 0; j < m; j++) {
        fits.add(fit.fits().get(j * k + f));
      }
      Dataset<Row> d = folds.forCandidate(f, name);
      d.sparkSession().sparkContext().setJobDescription(String.format(
          "train: %s fold %d/%d (scoring %d grid points)", name, f + 1, k, m));
      List<SharedLogistic.HeldOut> scored = SharedLogistic.score(
          d.where(col(CandidatePipeline.FOLD).equalTo(f)), columns(lr, null), fits);
      for (int j = 0; j < m; j++) {
        out[j * k + f] = scored.get(j);
      }
    }
    return Arrays.asList(out);
  }

  private static Dataset<Row> outOfFold(FoldData.Folds folds, PipelineModel[] models,
      String name, String idColumn) {
    Dataset<Row> out = null;
    for (int f = 0; f < models.length; f++) {
      Dataset<Row> scored = models[f].transform(folds.forCandidate(f, name)
              .where(col(CandidatePipeline.FOLD).equalTo(f)))
          .select(col(idColumn), col(CandidatePipeline.FOLD).as("fold"),
              col(CandidatePipeline.LABEL).as("label"),
              CandidatePipeline.positiveProbability(name).as("probability"));
      out = out == null ? scored : out.unionByName(scored);
    }
    return out;
  }

  private static void await(List<Future<?>> running) {
    try {
      for (Future<?> f : running) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while cross-validating", e);
    } catch (ExecutionException e) {
      running.forEach(f -> f.cancel(true));
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }
}
