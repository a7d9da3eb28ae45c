package dev.propensity.jobs.promotion;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.run.ModelRegistry.Decision;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import org.apache.spark.sql.SparkSession;

/**
 * The promotion step after {@code bins}: the {@link PromotionGate} decides whether the run becomes
 * champion (what {@code latest} resolves to). {@code ./submit.sh promote RUN} pins a run, or rolls
 * back to an older one, by hand ({@code propensity.promote.force}); every decision is a row of
 * {@code model_registry}.
 */
public final class PromoteJob implements Job {

  @Override
  public String name() {
    return "promote";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    PromotionGate.Settings settings = PromotionGate.Settings.fromConfig(config);
    boolean force = config.bool("propensity.promote.force");
    Warehouse warehouse = Warehouse.of(spark, config);
    ModelRegistry registry = new ModelRegistry(warehouse);
    ModelRun run = registry.runs().openOrNewest(config.string("propensity.promote.run-id"));
    PromotionGate gate = new PromotionGate(warehouse, FeatureSchema.fromConfig(config), settings);
    Decision d = force ? gate.force(run) : gate.decide(run);
    return String.format("promote: run %s -> %s%s (%s); champion now %s", run.id(),
        d.stage().value(), d.forced() ? " (forced)" : "", d.reason(),
        registry.championId().orElse("(none)"));
  }
}
