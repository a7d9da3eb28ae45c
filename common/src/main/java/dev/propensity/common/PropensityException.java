package dev.propensity.common;

/**
 * A failure the user can act on: bad config, bad input tables, a missing run.
 *
 * <p>The message states what is wrong, why, and how to fix it, and names the table, column, value
 * or config key involved. Jobs exit with {@link #exitCode()} so a scheduler can tell a user error
 * from a crash. Build instances through {@link Errors}, not ad hoc.
 */
public class PropensityException extends RuntimeException {

  /** Exit code for bad config, bad input or a missing run (a crash exits with 1). */
  public static final int EXIT_USER_ERROR = 2;

  /**
   * Exit code of the drift check when a feature or the score drifted significantly and
   * {@code propensity.drift.on-significant = fail}: the tables are written, a scheduler may branch
   * (e.g. to retraining).
   */
  public static final int EXIT_DRIFT = 3;

  /**
   * Exit code of performance tracking when the AUC on a labelled snapshot dropped more than
   * {@code propensity.performance.max-auc-drop} and {@code propensity.performance.on-degraded =
   * fail}: the tables are written, a scheduler may branch (e.g. to retraining).
   */
  public static final int EXIT_DEGRADED = 4;

  /**
   * Exit code of a transient storage failure (the object store or file system unreachable, timed
   * out or throttled after the configured retries): nothing was published half-way, a scheduler
   * may retry the job later. Distinct from 1 (a bug) and 2 (fix the input).
   */
  public static final int EXIT_STORAGE_UNAVAILABLE = 5;

  private final int exitCode;
  private final boolean signal;

  /**
   * @param message the full user-facing message
   * @param exitCode the process exit code a job's {@code main} ends with
   */
  public PropensityException(String message, int exitCode) {
    this(message, exitCode, false);
  }

  private PropensityException(String message, int exitCode, boolean signal) {
    super(message);
    this.exitCode = exitCode;
    this.signal = signal;
  }

  /**
   * An outcome a scheduler branches on, not a failure: the job did its work and ends with
   * {@code exitCode} (e.g. the retraining policy's reason). {@code main} prints the message
   * without "ERROR:".
   */
  public static PropensityException signal(String message, int exitCode) {
    return new PropensityException(message, exitCode, true);
  }

  /** @return whether this is a {@link #signal} rather than a failure */
  public boolean isSignal() {
    return signal;
  }

  /**
   * @param message the full user-facing message
   * @param exitCode the process exit code
   * @param cause the underlying failure, kept for the log (the message already names it)
   */
  public PropensityException(String message, int exitCode, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
    this.signal = false;
  }

  /** @param message the full user-facing message; exits with {@link #EXIT_USER_ERROR} */
  public PropensityException(String message) {
    this(message, EXIT_USER_ERROR);
  }

  /** @return the process exit code for this failure */
  public int exitCode() {
    return exitCode;
  }
}
