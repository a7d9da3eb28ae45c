package dev.propensity.jobs.explain;

import dev.propensity.jobs.model.RunLayout;

import dev.propensity.jobs.model.ReasonCodes;
import dev.propensity.jobs.model.Explainer;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_date;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.propensity.common.Errors;
import dev.propensity.common.PropensityException;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.FeatureInput;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.model.Ensemble;
import dev.propensity.jobs.model.Pipelines;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the full SHAP contributions of chosen customers to {@code customer_explanations}: for a
 * run's ensemble (probability space) or one of its candidates (its own output space), every
 * feature's contribution with the customer's value, the expected value and the output they add up
 * to. Upserted with one MERGE on (run_id, model, snapshot_date, customer_id), so running it again
 * for the same customers replaces their rows.
 *
 * <p>Config: {@code propensity.explain.run}, {@code .model}, {@code .customers} (or the first
 * {@code .limit} customers by id), {@code .snapshot}, {@code .unsupported-voters}, {@code
 * .waterfalls} (how many customers get a waterfall page in the run folder, see {@link
 * Waterfall}).
 */
public final class ExplainJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(ExplainJob.class);

  /** The table written. */
  public static final String TABLE = "customer_explanations";

  /** The table's key. */
  public static final List<String> KEYS = List.of("run_id", "model", "snapshot_date",
      "customer_id");

  @Override
  public String name() {
    return "explain";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    String modelName = config.string("propensity.explain.model");
    List<String> customers = config.strings("propensity.explain.customers");
    int limit = config.integer("propensity.explain.limit");
    if (customers.isEmpty() && limit < 1) {
      throw Errors.invalidConfig("propensity.explain.limit", limit,
          "at least 1 (or list ids in propensity.explain.customers)");
    }
    boolean skip = ReasonCodes.skipUnsupported(config);
    Warehouse warehouse = Warehouse.of(spark, config);
    ModelRun run = new ModelRegistry(warehouse).open(config.string("propensity.explain.run"));
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    Explainer explainer = "ensemble".equals(modelName)
        ? Explainer.forEnsemble(Ensemble.load(run), schema, skip)
        : Explainer.forCandidate(modelName, loadCandidate(run, modelName), schema);

    FeatureInput input = FeatureInput.forScoring(warehouse, schema,
        config.string("propensity.explain.snapshot"));
    String snapshot = input.snapshot().orElse(LocalDate.now(ZoneOffset.UTC).toString());
    Dataset<Row> rows = input.rows().select(schema.inputColumns().stream().map(c -> col(c))
        .toArray(Column[]::new));
    Column id = col(schema.idColumn()).cast("string");
    rows = customers.isEmpty() ? rows.orderBy(id).limit(limit)
        : rows.where(id.isin(customers.toArray()));

    Dataset<Row> out = explainer.contributions(rows).select(
            id.as("customer_id"),
            to_date(lit(snapshot)).as("snapshot_date"),
            lit(run.id()).as("run_id"),
            lit(modelName).as("model"),
            lit(explainer.outputSpace()).as("output_space"),
            col(Explainer.EXPECTED_VALUE),
            col(Explainer.OUTPUT),
            col(Explainer.CONTRIBUTIONS),
            current_timestamp().as("explained_at"))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      long n = out.count();
      if (n == 0) {
        throw new PropensityException(String.format("Cannot explain: none of the customers %s"
            + " is in snapshot %s of table %s. Check propensity.explain.customers and"
            + " propensity.explain.snapshot.", customers.isEmpty() ? "(any)" : customers,
            snapshot, schema.table()));
      }
      List<String> missing = new ArrayList<>();
      if (!customers.isEmpty() && n < customers.size()) {
        // the requested ids are few (config), so are the found ones
        List<String> found = out.select("customer_id").collectAsList().stream()
            .map(r -> r.getString(0)).toList();
        customers.stream().filter(c -> !found.contains(c)).forEach(missing::add);
        LOG.warn("explain: customers {} are not in snapshot {}", missing, snapshot);
      }
      warehouse.merge(out, TABLE, KEYS, Warehouse.WhenMissing.keep());
      String pages = writeWaterfalls(out, run, modelName, snapshot, explainer.outputSpace(),
          config.integer("propensity.explain.waterfalls"));
      LOG.info("explain: {} customers of snapshot {} with run {} model {} ({})", n, snapshot,
          run.id(), modelName, explainer.outputSpace());
      return String.format("explain: %d customer(s), snapshot %s, run %s, model %s (%s)%s -> %s",
          n, snapshot, run.id(), modelName, explainer.outputSpace(),
          missing.isEmpty() ? "" : "; not found: " + missing, warehouse.path(TABLE)) + pages;
    } finally {
      out.unpersist();
    }
  }

  /** The run folder's subfolder of the waterfall pages. */
  public static final String WATERFALLS = "explain";

  /**
   * Writes one waterfall page per explained customer (at most {@code max}, by id) to {@code
   * explain/<model>/<snapshot>/customer-<id>.html} in the run folder.
   *
   * @return the summary's suffix naming the folder, or empty when {@code max} is 0
   */
  private static String writeWaterfalls(Dataset<Row> out, ModelRun run, String model,
      String snapshot, String space, int max) {
    if (max <= 0) {
      return "";
    }
    String dir = waterfallDir(model, snapshot);
    List<Row> rows = out.select(col("customer_id"), col(Explainer.EXPECTED_VALUE),
        col(Explainer.OUTPUT), col(Explainer.CONTRIBUTIONS)).orderBy("customer_id").limit(max)
        .collectAsList();
    for (Row r : rows) {
      Waterfall w = Waterfall.of(r.getString(0), r.getDouble(1), r.getDouble(2), space,
          r.getList(3), WATERFALL_STEPS);
      run.writeText(dir + "/" + waterfallFile(r.getString(0)), w.page("Run " + run.id()
          + ", model " + model + ", snapshot " + snapshot + ": customer " + r.getString(0)));
    }
    LOG.info("explain: {} waterfall page(s) in {}", rows.size(), run.path(dir));
    return String.format("; %d waterfall page(s) in %s", rows.size(), run.path(dir));
  }

  /** Features drawn as their own step of a waterfall page; the rest are summed. */
  static final int WATERFALL_STEPS = 12;

  /** @return the run-relative folder of a model's waterfall pages for a snapshot */
  public static String waterfallDir(String model, String snapshot) {
    return WATERFALLS + "/" + model + "/" + snapshot;
  }

  /** @return the page's file name: the id with anything but letters, digits, . _ - replaced */
  public static String waterfallFile(String customer) {
    return "customer-" + customer.replaceAll("[^A-Za-z0-9._-]", "_") + ".html";
  }

  private static PipelineModel loadCandidate(ModelRun run, String name) {
    if (!RunLayout.of(run).hasCandidateModel(name)) {
      Map<String, Object> manifest = RunData.manifest(run);
      List<String> known = new ArrayList<>(List.of("ensemble"));
      known.addAll(ModelRun.JSON.convertValue(manifest.get("candidates"),
          new TypeReference<List<String>>() {}));
      throw Errors.unknownName("propensity.explain.model", name, known);
    }
    return Pipelines.load(RunLayout.of(run).candidateModel(name));
  }
}
