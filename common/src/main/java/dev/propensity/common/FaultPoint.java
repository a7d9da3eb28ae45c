package dev.propensity.common;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named points in a job where the fault-injection tests stop the JVM with {@code kill -9}. With
 * the system property {@value #PROPERTY} (or the environment variable {@value #ENV}) set to a
 * point's name, the job prints {@code FAULT POINT <name> reached} to stderr when it gets there
 * and waits, so the test can kill it at exactly that moment; with {@value #RESUME_PROPERTY} set
 * to a file it goes on once that file exists (to stop a server under a running job). Unset
 * (always, outside the tests): nothing happens.
 */
public final class FaultPoint {

  /** The system property naming the point to stop at. */
  public static final String PROPERTY = "propensity.test.halt-at";
  /** The environment variable naming the point to stop at. */
  public static final String ENV = "PROPENSITY_TEST_HALT_AT";

  /** A file whose appearance lets a job waiting at its fault point go on. */
  public static final String RESUME_PROPERTY = "propensity.test.resume-file";

  private static final Logger LOG = LoggerFactory.getLogger(FaultPoint.class);

  private FaultPoint() {}

  /** Stops here (waits to be killed) when the test hook names this point. */
  public static void reach(String name) {
    String target = System.getProperty(PROPERTY, System.getenv(ENV));
    if (!name.equals(target)) {
      return;
    }
    LOG.warn("Fault point {} reached: waiting to be killed", name);
    System.err.println("FAULT POINT " + name + " reached");
    System.err.flush();
    String resume = System.getProperty(RESUME_PROPERTY);
    try {
      while (resume == null || !new java.io.File(resume).exists()) {
        Thread.sleep(100);
      }
      LOG.warn("Fault point {}: resuming", name);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted at fault point " + name, e);
    }
  }
}
