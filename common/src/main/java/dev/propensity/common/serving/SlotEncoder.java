package dev.propensity.common.serving;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * A voter's preprocessing after imputation and casts, as one function of a row of plain values:
 * string indexing with an extra index for unseen values and nulls ({@code handleInvalid=keep}),
 * one-hot encoding (optionally dropping the last slot), assembly in the pipeline's order (null
 * numbers as NaN), then standard scaling {@code (x - shift) * scale} or clipped unit-range
 * scaling. The batch scorer's fused voters and the serving module call this one class, so a row
 * scored either way gets the same vector. Immutable and safe to share between threads.
 *
 * @param slots the assembler's inputs, in order
 * @param shift the standard scaler's means (null: no standard scaling)
 * @param scale the standard scaler's inverse deviations (0 for a constant slot)
 * @param min the unit-range scaler's minimums (null: no unit-range scaling)
 * @param max the unit-range scaler's maximums
 */
public record SlotEncoder(List<Slot> slots, double[] shift, double[] scale, double[] min,
    double[] max) implements Serializable {

  private static final long serialVersionUID = 1L;

  /**
   * One assembler input.
   *
   * @param field the index of the value it reads in the row given to {@link #encode}
   * @param size its width in the vector (1 for a number)
   * @param labels a category's labels to their index, or null for a number
   */
  public record Slot(int field, int size, Map<String, Integer> labels) implements Serializable {

    private static final long serialVersionUID = 1L;

    /** @return whether the slot is a number (else a one-hot category) */
    @JsonIgnore
    public boolean numeric() {
      return labels == null;
    }

    /** @return whether a category value is one the indexer never saw (null counts as missing) */
    public boolean unseen(Object value) {
      return !numeric() && value != null && !labels.containsKey(value);
    }
  }

  public SlotEncoder {
    slots = List.copyOf(slots);
  }

  /** @return the length of the vectors {@link #encode} returns */
  public int size() {
    int n = 0;
    for (Slot s : slots) {
      n += s.size();
    }
    return n;
  }

  /**
   * @param values the row: a {@link Number} (or null) for a numeric field, a {@link String} (or
   *     null) for a category, at the slots' field indexes
   * @return the classifier's input vector
   */
  public double[] encode(Object[] values) {
    double[] x = new double[size()];
    int pos = 0;
    for (Slot s : slots) {
      Object v = values[s.field()];
      if (s.numeric()) {
        x[pos] = v == null ? Double.NaN : ((Number) v).doubleValue();
      } else {
        // unseen values and nulls: the indexer's extra index, one past its labels
        int invalid = s.labels().size();
        int c = v == null ? invalid : s.labels().getOrDefault(v, invalid);
        if (c < s.size()) {
          x[pos + c] = 1.0;
        }
      }
      pos += s.size();
    }
    if (shift != null) {
      for (int i = 0; i < x.length; i++) {
        x[i] = (x[i] - shift[i]) * scale[i];
      }
    } else if (min != null) {
      for (int i = 0; i < x.length; i++) {
        double range = max[i] - min[i];
        double u = range > 0 && !Double.isNaN(x[i]) ? (x[i] - min[i]) / range : 0.0;
        x[i] = Math.max(0.0, Math.min(1.0, u));
      }
    }
    return x;
  }
}
