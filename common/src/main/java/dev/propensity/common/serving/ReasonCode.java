package dev.propensity.common.serving;

/**
 * One reason behind a live score, as an element of the batch scorer's {@code reason_codes}.
 *
 * @param feature the feature
 * @param value the customer's raw value as a string, or null when missing
 * @param contribution its share of the propensity above the ensemble's expected value
 */
public record ReasonCode(String feature, String value, double contribution) {}
