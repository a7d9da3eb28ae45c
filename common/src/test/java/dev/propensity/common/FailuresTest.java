package dev.propensity.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

/** What reaches the top of a job becomes one line and an exit code a scheduler can act on. */
class FailuresTest {

  @Test
  void storageOutageFourCausesDownIsExit5NamingEndpointAndRootCause() {
    Throwable t = new RuntimeException("Job aborted",
        new IllegalStateException("task failed",
            new IOException("getFileStatus on s3a://bucket/wh/customer_scores/_delta_log:"
                + " Unable to execute HTTP request",
                new RuntimeException("Connect to 127.0.0.1:9000 failed",
                    new ConnectException("Connection refused")))));
    PropensityException e = Failures.classify(t, "http://admin:pw@127.0.0.1:9000").orElseThrow();
    assertThat(e.exitCode()).isEqualTo(PropensityException.EXIT_STORAGE_UNAVAILABLE)
        .isEqualTo(5);
    assertThat(e.getMessage()).isEqualTo("Storage unavailable at endpoint"
        + " http://***@127.0.0.1:9000, path s3a://bucket/wh/customer_scores/_delta_log:"
        + " ConnectException: Connection refused. Nothing was published half-way; re-run when"
        + " the store is back (exit code 5 means retry later). Retry and timeout policy:"
        + " propensity.s3.retry / propensity.s3.timeout.");
  }

  @Test
  void userErrorsInsideTheChainKeepTheirMessageAndBugsAreNotClassified() {
    PropensityException user = new PropensityException("Invalid X");
    assertThat(Failures.classify(new RuntimeException(user), "")).contains(user);
    assertThat(Failures.classify(new NullPointerException("x"), "")).isEmpty();
    assertThat(Failures.oneLine(new IllegalStateException("a\nb"))).isEqualTo(
        "IllegalStateException: a");
  }
}
