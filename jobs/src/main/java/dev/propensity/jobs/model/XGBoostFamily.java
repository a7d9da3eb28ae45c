package dev.propensity.jobs.model;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.explain.Link;
import dev.propensity.jobs.model.CandidatePipeline.Scaling;
import dev.propensity.jobs.model.Candidates.Candidate;
import dev.propensity.jobs.model.Candidates.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.ParamGridBuilder;

/**
 * The {@code xgboost} family in one place: {@link XGBoostTrees} with its grid from {@code
 * propensity.train.xgboost.*}, explained exactly by TreeSHAP on its trees in margin space
 * ({@link XGBoostTreesModel}), importance by XGBoost's total gain, the trees kept as facts.
 */
final class XGBoostFamily implements Family {

  @Override
  public Candidate build(String name, Context ctx) {
    String k = Candidates.KEY + name + ".";
    JobConfig c = ctx.config();
    XGBoostTrees xgb = new XGBoostTrees().setColumns(name).setSeed(ctx.seed())
        .setNumRound(c.integer(k + "num-round"))
        .setMaxBin(c.integer(k + "max-bin"))
        .setNumWorkers(c.integer(k + "num-workers"))
        .setNthread(c.integer(k + "nthread"));
    int stopAfter = c.integer(k + "early-stopping-rounds");
    if (stopAfter < 0) {
      throw Errors.invalidConfig(k + "early-stopping-rounds", stopAfter, "a whole number >= 0"
          + " (0 switches early stopping off)");
    }
    // the hold-out is GBT's: propensity.train.gbt.validation-fraction of the training rows
    if (stopAfter > 0 && c.number(Candidates.KEY + "gbt.validation-fraction") > 0) {
      xgb.setEarlyStoppingRounds(stopAfter).setValidationCol(CandidatePipeline.GBT_VALIDATION);
    }
    if (ctx.weights()) {
      xgb.setWeightCol(CandidatePipeline.WEIGHT);
    }
    ParamMap[] grid = new ParamGridBuilder()
        .addGrid(xgb.maxDepth(), Candidates.ints(c, k + "max-depth"))
        .addGrid(xgb.eta(), Candidates.doubles(c, k + "eta"))
        .addGrid(xgb.minChildWeight(), Candidates.doubles(c, k + "min-child-weight"))
        .addGrid(xgb.subsample(), Candidates.doubles(c, k + "subsample"))
        .addGrid(xgb.colsampleBytree(), Candidates.doubles(c, k + "colsample-bytree"))
        .addGrid(xgb.lambda(), Candidates.doubles(c, k + "lambda"))
        .build();
    return Candidates.plain(name, Scaling.NONE, xgb, grid, ctx.weights());
  }

  @Override
  public Space space() {
    return Space.margin(Link.LOGISTIC);
  }

  @Override
  public Optional<Exact> exact(Transformer predictor) {
    return Optional.of(Exact.trees(((XGBoostTreesModel) predictor).ensemble()));
  }

  @Override
  public Optional<SlotImportance> importance(Transformer predictor) {
    return Optional.of(new SlotImportance("tree-gain",
        ((XGBoostTreesModel) predictor).featureImportances().toArray(), false));
  }

  @Override
  public Map<String, Object> facts(Transformer predictor) {
    XGBoostTreesModel xgb = (XGBoostTreesModel) predictor;
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("trees_used", xgb.treesUsed());
    out.put("trees_trained", xgb.treesTrained());
    return out;
  }
}
