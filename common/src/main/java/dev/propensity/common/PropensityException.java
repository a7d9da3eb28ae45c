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

  private final int exitCode;

  /**
   * @param message the full user-facing message
   * @param exitCode the process exit code a job's {@code main} ends with
   */
  public PropensityException(String message, int exitCode) {
    super(message);
    this.exitCode = exitCode;
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
