package dev.propensity.jobs.model;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.jobs.model.Candidates.Candidate;
import dev.propensity.jobs.model.Candidates.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The {@code xgboost-rf} family in one place: a random forest grown by XGBoost ({@link
 * XGBoostForest}), the {@code random-forest} family's model (regression trees on the 0/1 label,
 * the probability = the mean over trees of the leaf positive rates) on XGBoost's histograms, with
 * its grid from {@code propensity.train.xgboost-rf.*}. Its output is the probability, so it is
 * explained exactly by TreeSHAP on its trees in probability space (identity link), scored as the
 * MLlib forest is (a leaf-mean score, {@link ScoreToProbability}); importance by XGBoost's total
 * gain.
 */
final class XGBoostForestFamily implements Family {

  @Override
  public Candidate build(String name, Context ctx) {
    String k = Candidates.KEY + name + ".";
    JobConfig c = ctx.config();
    double subsample = c.number(k + "subsample");
    if (!(subsample > 0 && subsample <= 1)) {
      throw Errors.invalidConfig(k + "subsample", subsample, "a share in (0, 1]: the rows each"
          + " tree samples without replacement (0.632 is about a bootstrap's distinct rows)");
    }
    List<String> strategies = c.strings(k + "feature-subset-strategy");
    for (String s : strategies) {
      if (!XGBoostForest.isStrategy(s)) {
        throw Errors.invalidConfig(k + "feature-subset-strategy", s,
            "sqrt, log2, onethird, all, or a fraction in (0, 1] such as \"0.5\"");
      }
    }
    XGBoostForest rf = new XGBoostForest().setColumns(name).setSeed(ctx.seed())
        .setSubsample(subsample)
        .setMaxBin(c.integer(k + "max-bin"))
        .setNumWorkers(c.integer(k + "num-workers"))
        .setNthread(c.integer(k + "nthread"));
    if (ctx.weights()) {
      rf.setWeightCol(CandidatePipeline.WEIGHT);
    }
    ParamMap[] grid = new ParamGridBuilder()
        .addGrid(rf.numTrees(), Candidates.ints(c, k + "num-trees"))
        .addGrid(rf.maxDepth(), Candidates.ints(c, k + "max-depth"))
        .addGrid(rf.minChildWeight(), Candidates.doubles(c, k + "min-instances-per-node"))
        .addGrid(rf.featureSubsetStrategy(), CollectionConverters.asScala(strategies))
        .build();
    return Candidates.probabilityTree(name, rf, grid, ctx.weights());
  }

  @Override
  public Space space() {
    return Space.PROBABILITY;
  }

  @Override
  public Optional<Exact> exact(Transformer predictor) {
    return Optional.of(Exact.trees(((XGBoostForestModel) predictor).ensemble()));
  }

  @Override
  public Optional<SlotImportance> importance(Transformer predictor) {
    return Optional.of(new SlotImportance("tree-gain",
        ((XGBoostForestModel) predictor).featureImportances().toArray(), false));
  }

  @Override
  public Map<String, Object> facts(Transformer predictor) {
    XGBoostForestModel rf = (XGBoostForestModel) predictor;
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("trees", rf.numTrees());
    out.put("features_per_split", rf.getFeaturesPerNode());
    return out;
  }
}
