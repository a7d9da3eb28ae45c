package dev.propensity.common.serving;

/** A request's feature is missing or of the wrong type; the message names it. */
public final class InvalidFeatureException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String field;

  public InvalidFeatureException(String field, String message) {
    super(message);
    this.field = field;
  }

  /** @return the feature (or request field) at fault */
  public String field() {
    return field;
  }
}
