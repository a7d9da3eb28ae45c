package dev.propensity.jobs.model;

import org.apache.spark.ml.feature.StandardScalerModel;

/**
 * MLlib's {@link StandardScalerModel} as a per-slot affine map {@code x -> (x - shift) * scale},
 * the one statement of its rule (fused scoring and the SHAP feature slots both read it): the
 * shift is the training mean with {@code withMean}, else 0; the scale is {@code 1 / std} with
 * {@code withStd}, 0 where the std is 0, else 1.
 *
 * @param shift subtracted from each slot
 * @param scale then multiplied into each slot
 * @param scaledStd the standard deviation of each slot after scaling (1, or 0 for a constant
 *     slot, with {@code withStd}; the training std without it)
 * @param mean the training mean of each slot before scaling
 */
record StandardScaling(double[] shift, double[] scale, double[] scaledStd, double[] mean) {

  static StandardScaling of(StandardScalerModel model) {
    double[] mean = model.mean().toArray();
    double[] std = model.std().toArray();
    int n = mean.length;
    double[] shift = model.getWithMean() ? mean : new double[n];
    double[] scale = new double[n];
    double[] scaledStd = new double[n];
    for (int i = 0; i < n; i++) {
      scale[i] = !model.getWithStd() ? 1.0 : std[i] == 0 ? 0.0 : 1.0 / std[i];
      scaledStd[i] = !model.getWithStd() ? std[i] : std[i] == 0 ? 0.0 : 1.0;
    }
    return new StandardScaling(shift, scale, scaledStd, mean);
  }

  /** @return the training mean of each slot after scaling: linear SHAP's reference */
  double[] scaledMeans() {
    double[] out = new double[mean.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (mean[i] - shift[i]) * scale[i];
    }
    return out;
  }
}
