package dev.propensity.jobs.model;

import dev.propensity.common.PropensityException;
import dev.propensity.common.explain.Link;
import dev.propensity.common.explain.Tree;
import dev.propensity.common.explain.TreeEnsemble;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.DecisionTreeClassificationModel;
import org.apache.spark.ml.classification.GBTClassificationModel;
import org.apache.spark.ml.classification.RandomForestClassificationModel;
import org.apache.spark.ml.regression.DecisionTreeRegressionModel;
import org.apache.spark.ml.regression.RandomForestRegressionModel;
import org.apache.spark.ml.tree.CategoricalSplit;
import org.apache.spark.ml.tree.ContinuousSplit;
import org.apache.spark.ml.tree.InternalNode;
import org.apache.spark.ml.tree.LeafNode;
import org.apache.spark.ml.tree.Node;

/**
 * Reads MLlib's fitted tree classifiers into plain {@link TreeEnsemble}s, explained in the space
 * of the output MLlib computes (checked against the Spark 4.1.0 bytecode of the models'
 * {@code predictRaw} and {@code raw2probabilityInPlace}):
 *
 * <ul>
 *   <li>decision tree: {@code rawPrediction} is the leaf's class counts, {@code probability}
 *       their normalisation; explained output = probability of class 1 = {@code counts[1] /
 *       sum(counts)} of the leaf;
 *   <li>random forest: {@code rawPrediction} sums each tree's normalised leaf class distribution,
 *       {@code probability} divides by the sum (the number of trees), so the explained output is
 *       the average over trees of the leaf's {@code counts[1] / sum(counts)}, in probability space;
 *   <li>gradient-boosted trees: {@code rawPrediction = [-m, m]} with the margin {@code m =
 *       sum_t treeWeight_t * tree_t(x)} (regression trees, leaf {@code prediction}); {@code
 *       probability[1] = 1 - 1 / (1 + exp(2m))} (log loss). Explained output = the margin {@code
 *       m}; {@link Link#LOGISTIC_2X} maps it to the probability;
 *   <li>the probability trees of the training job (decision tree and random forest regressors on
 *       the 0/1 label, then {@code ScoreToProbability}): a leaf's {@code prediction} is its mean
 *       label, the probability; a forest averages its trees. Explained output = probability.
 * </ul>
 *
 * <p>A node's cover is {@code impurityStats.count}: the (weighted) number of training instances
 * that reached it (class counts for classification trees, the weight sum for regression trees);
 * MLlib saves it with the model, so loaded pipelines keep it.
 */
public final class MllibTrees {

  /**
   * A tree model in explainable form.
   *
   * @param ensemble the trees and their weights
   * @param link how the explained output becomes a probability
   * @param output what the explained output is, for documentation
   */
  public record Explainable(TreeEnsemble ensemble, Link link, String output) {}

  private MllibTrees() {}

  /**
   * The MLlib tree families (decision tree, random forest, gradient-boosted trees): their build
   * and their output space, read by this class (exact TreeSHAP, impurity importance, sizes).
   */
  static final class TreeFamily implements Family {
    private final Family build;
    private final Space space;

    TreeFamily(Family build, Space space) {
      this.build = build;
      this.space = space;
    }

    @Override
    public Candidates.Candidate build(String name, Candidates.Context context) {
      return build.build(name, context);
    }

    @Override
    public Space space() {
      return space;
    }

    @Override
    public java.util.Optional<Exact> exact(Transformer predictor) {
      return java.util.Optional.of(Exact.trees(of(predictor).ensemble()));
    }

    @Override
    public java.util.Optional<SlotImportance> importance(Transformer predictor) {
      return java.util.Optional.of(new SlotImportance("tree-impurity",
          importances(predictor), false));
    }

    @Override
    public java.util.Map<String, Object> facts(Transformer predictor) {
      return MllibTrees.facts(predictor);
    }
  }

  /** @return MLlib's {@code featureImportances} (mean decrease in impurity, sum 1) */
  static double[] importances(Transformer model) {
    if (model instanceof DecisionTreeRegressionModel m) {
      return m.featureImportances().toArray();
    }
    if (model instanceof RandomForestRegressionModel m) {
      return m.featureImportances().toArray();
    }
    if (model instanceof DecisionTreeClassificationModel m) {
      return m.featureImportances().toArray();
    }
    if (model instanceof RandomForestClassificationModel m) {
      return m.featureImportances().toArray();
    }
    return ((GBTClassificationModel) model).featureImportances().toArray();
  }

  /** @return the size facts worth recording: GBT's trees, a forest's nodes, a tree's shape */
  static java.util.Map<String, Object> facts(Transformer model) {
    java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
    if (model instanceof GBTClassificationModel g) {
      out.put("trees_used", g.getNumTrees());
    } else if (model instanceof RandomForestRegressionModel rf) {
      out.put("total_nodes", rf.totalNumNodes());
    } else if (model instanceof DecisionTreeRegressionModel dt) {
      out.put("nodes", dt.numNodes());
      out.put("depth", dt.depth());
    }
    return out;
  }

  /** @return whether {@link #of} can read this model */
  public static boolean supports(Transformer model) {
    return model instanceof DecisionTreeClassificationModel
        || model instanceof RandomForestClassificationModel
        || model instanceof GBTClassificationModel
        || model instanceof DecisionTreeRegressionModel
        || model instanceof RandomForestRegressionModel;
  }

  /**
   * @param model a fitted MLlib decision tree, random forest or GBT classifier (binary)
   * @return its explainable form
   * @throws PropensityException for another model type or more than two classes
   */
  public static Explainable of(Transformer model) {
    List<Tree> trees = roots(model).stream().map(Tree::of).toList();
    if (model instanceof DecisionTreeClassificationModel
        || model instanceof DecisionTreeRegressionModel) {
      return new Explainable(TreeEnsemble.single(trees.get(0)), Link.IDENTITY, "probability");
    }
    if (model instanceof RandomForestClassificationModel
        || model instanceof RandomForestRegressionModel) {
      return new Explainable(TreeEnsemble.average(trees), Link.IDENTITY, "probability");
    }
    GBTClassificationModel gbt = (GBTClassificationModel) model;
    return new Explainable(new TreeEnsemble(trees, gbt.treeWeights(), 0.0), Link.LOGISTIC_2X,
        "margin");
  }

  /** @return the model's trees as {@link Tree.Node} roots with the leaf values explained */
  static List<Tree.Node> roots(Transformer model) {
    List<Tree.Node> roots = new ArrayList<>();
    if (model instanceof DecisionTreeClassificationModel dt) {
      requireBinary(dt.numClasses(), dt);
      roots.add(node(dt.rootNode(), MllibTrees::positiveShare));
    } else if (model instanceof RandomForestClassificationModel rf) {
      requireBinary(rf.numClasses(), rf);
      for (DecisionTreeClassificationModel t : rf.trees()) {
        roots.add(node(t.rootNode(), MllibTrees::positiveShare));
      }
    } else if (model instanceof DecisionTreeRegressionModel dt) {
      // the probability-tree candidates: the leaf mean of the 0/1 label is the probability
      roots.add(node(dt.rootNode(), LeafNode::prediction));
    } else if (model instanceof RandomForestRegressionModel rf) {
      // MLlib averages the trees' predictions (all tree weights 1)
      for (DecisionTreeRegressionModel t : rf.trees()) {
        roots.add(node(t.rootNode(), LeafNode::prediction));
      }
    } else if (model instanceof GBTClassificationModel gbt) {
      for (DecisionTreeRegressionModel t : gbt.trees()) {
        roots.add(node(t.rootNode(), LeafNode::prediction));
      }
    } else {
      throw new PropensityException(String.format(
          "Cannot read %s as trees: supported are DecisionTreeClassificationModel,"
              + " RandomForestClassificationModel and GBTClassificationModel",
          model.getClass().getSimpleName()));
    }
    return roots;
  }

  /** The probability of class 1 the leaf's class counts give (0 for an empty leaf, as MLlib). */
  private static double positiveShare(LeafNode leaf) {
    double[] counts = leaf.impurityStats().stats();
    double total = 0;
    for (double c : counts) {
      total += c;
    }
    return total == 0 ? 0.0 : counts[1] / total;
  }

  private static void requireBinary(int numClasses, Transformer model) {
    if (numClasses != 2) {
      throw new PropensityException(String.format("Cannot explain %s (%s): it has %d classes;"
          + " explanations support binary classifiers (label 0/1)", model.uid(),
          model.getClass().getSimpleName(), numClasses));
    }
  }

  private static Tree.Node node(Node n, ToDoubleFunction<LeafNode> leafValue) {
    double cover = n.impurityStats().count();
    if (n instanceof LeafNode leaf) {
      return Tree.leaf(leafValue.applyAsDouble(leaf), cover);
    }
    InternalNode in = (InternalNode) n;
    Tree.Node left = node(in.leftChild(), leafValue);
    Tree.Node right = node(in.rightChild(), leafValue);
    if (in.split() instanceof ContinuousSplit cs) {
      return Tree.continuous(cs.featureIndex(), cs.threshold(), cover, left, right);
    }
    CategoricalSplit cat = (CategoricalSplit) in.split();
    // MLlib keeps the smaller side: the left categories when there are at most half of them,
    // else the right ones; a value in neither set (unseen) goes to the side not kept
    double[] leftCats = cat.leftCategories();
    boolean keepsLeft = leftCats.length <= cat.numCategories() / 2;
    return Tree.categorical(cat.featureIndex(), keepsLeft ? leftCats : cat.rightCategories(),
        keepsLeft, cover, left, right);
  }
}
