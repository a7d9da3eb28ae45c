package dev.propensity.jobs.model;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The model layer's modes as enums, parsed once from config (or from a saved model's metadata)
 * by their kebab-case names; use sites switch on the enum, never compare strings.
 */
public final class Modes {

  /** How the voters' probabilities combine into the raw ensemble score. */
  public enum Combine {
    /** The plain mean of the voters' probabilities. */
    MEAN,
    /** A mean weighted by each voter's ranking metric. */
    WEIGHTED,
    /** A logistic meta-learner on the voters' out-of-fold logits. */
    STACKING
  }

  /** How the raw ensemble score becomes the propensity. */
  public enum Calibration {
    /** The raw score is the propensity. */
    NONE,
    /** Platt scaling of logit(raw score). */
    PLATT,
    /** Isotonic regression of the label on the raw score. */
    ISOTONIC
  }

  /** How select chooses the ensemble's decision threshold on the validation rows. */
  public enum ThresholdRule {
    /** The threshold that maximises F1. */
    MAX_F1,
    /** The highest threshold whose recall reaches the target. */
    TARGET_RECALL
  }

  /**
   * The rows each candidate's final model is fitted on, with the grid point cross-validation
   * chose. Beyond the training split, the rows added are in-sample for the final model, so
   * select and bins calibrate, choose the threshold and cut the bins on the out-of-fold
   * predictions instead.
   */
  public enum Refit {
    /** The training split only (validation and test stay out of sample). */
    TRAIN,
    /** Training and validation splits; test stays the out-of-sample check. */
    TRAIN_VALIDATION,
    /** Every labelled row: no out-of-sample check is left (the test metrics are in-sample). */
    ALL;

    /** @return whether the validation rows were fitted on */
    public boolean includesValidation() {
      return this != TRAIN;
    }

    /** @return the split names fitted on */
    public List<String> splits() {
      return switch (this) {
        case TRAIN -> List.of(Splits.TRAIN);
        case TRAIN_VALIDATION -> List.of(Splits.TRAIN, Splits.VALIDATION);
        case ALL -> List.of(Splits.TRAIN, Splits.VALIDATION, Splits.TEST);
      };
    }
  }

  /** What select ranks the candidates by. */
  public enum RankBy {
    /** Out-of-fold when the validation split is small or was refitted on, else validation. */
    AUTO,
    /** The metric over every training row's out-of-fold prediction. */
    OUT_OF_FOLD,
    /** The metric on the validation split. */
    VALIDATION
  }

  /** What explanations do with a voter that has no exact explanation. */
  public enum UnsupportedVoters {
    /** Explain the other voters' share, with a warning. */
    SKIP,
    /** Fail. */
    FAIL
  }

  private Modes() {}

  /** @return the kebab-case name of a mode, as config and saved metadata spell it */
  public static String name(Enum<?> mode) {
    return mode.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** @return every name of {@code type}'s modes, in declaration order */
  public static <E extends Enum<E>> List<String> names(Class<E> type) {
    return Arrays.stream(type.getEnumConstants()).map(Modes::name).toList();
  }

  /**
   * @return the mode named by config {@code key}
   * @throws dev.propensity.common.PropensityException naming the key and the known names
   */
  public static <E extends Enum<E>> E fromConfig(JobConfig config, String key, Class<E> type) {
    return parse(key, config.oneOf(key, names(type)), type);
  }

  /**
   * @param where what holds the value (a config key or a saved file), for the error message
   * @return the mode of that name
   * @throws dev.propensity.common.PropensityException naming the known names
   */
  public static <E extends Enum<E>> E parse(String where, String value, Class<E> type) {
    for (E e : type.getEnumConstants()) {
      if (name(e).equals(value)) {
        return e;
      }
    }
    throw Errors.unknownName(where, value, names(type));
  }
}
