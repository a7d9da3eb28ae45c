package dev.propensity.common;

import dev.propensity.common.Secrets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Classifies a failure that reached the top of a job by its cause chain: a Delta write conflict,
 * a storage outage (connection refused or reset, timeouts, unknown host, throttling, 5xx), or a
 * Spark analysis error. Class names are compared as strings so that {@code common} needs neither
 * the AWS SDK nor hadoop-aws at compile time.
 */
public final class Failures {

  private static final Set<String> STORAGE_CAUSES = Set.of(
      "java.net.ConnectException", "java.net.SocketTimeoutException",
      "java.net.UnknownHostException", "java.net.NoRouteToHostException",
      "java.net.SocketException", "java.net.http.HttpConnectTimeoutException",
      "org.apache.hadoop.net.ConnectTimeoutException",
      "org.apache.hadoop.fs.s3a.AWSClientIOException",
      "org.apache.hadoop.fs.s3a.AWSApiCallTimeoutException",
      "org.apache.hadoop.fs.s3a.AWSServiceThrottledException",
      "org.apache.hadoop.fs.s3a.AWSStatus500Exception",
      "org.apache.hadoop.fs.s3a.AWSNoResponseException",
      "org.apache.hadoop.fs.s3a.AWSConnectionTimeoutException",
      "software.amazon.awssdk.core.exception.ApiCallTimeoutException",
      "software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException",
      "software.amazon.awssdk.core.exception.SdkClientException",
      "org.apache.http.conn.HttpHostConnectException",
      "org.apache.http.conn.ConnectTimeoutException",
      "org.apache.http.NoHttpResponseException");
  /** Delta's conflicts that a re-run of the whole (idempotent) write resolves. */
  private static final Set<String> RETRYABLE_CONFLICTS = Set.of("ConcurrentAppendException",
      "ConcurrentDeleteReadException", "ConcurrentDeleteDeleteException",
      "MetadataChangedException", "ProtocolChangedException", "ConcurrentWriteException");
  private static final Pattern OPERATION = Pattern.compile("\"operation\":\"([^\"]+)\"");
  private static final Pattern VERSION = Pattern.compile("\"version\":(\\d+)");
  /** Delta 4's wording: "a concurrent MERGE added data to table ... committed at version 7". */
  private static final Pattern CONCURRENT_OP = Pattern.compile(
      "a concurrent (.+?) (?:added|deleted|modified|changed|wrote)");
  private static final Pattern AT_VERSION = Pattern.compile("at version (\\d+)");
  private static final Pattern LOCATION = Pattern.compile("\\b(s3a?://[^\\s:\"',;]+|"
      + "https?://[^\\s/\"',;]+|file:/[^\\s:\"',;]+)");

  private Failures() {}

  /** @return the chain from {@code t} to its root cause, without loops */
  public static List<Throwable> chain(Throwable t) {
    List<Throwable> out = new ArrayList<>();
    for (Throwable c = t; c != null && !out.contains(c); c = c.getCause()) {
      out.add(c);
    }
    return out;
  }

  /** @return the deepest cause */
  public static Throwable root(Throwable t) {
    List<Throwable> c = chain(t);
    return c.get(c.size() - 1);
  }

  /** @return the Delta conflict in the chain, if any */
  public static Optional<Throwable> deltaConflict(Throwable t) {
    return chain(t).stream().filter(c -> c instanceof java.util.ConcurrentModificationException
        && c.getClass().getName().contains("delta")).findFirst();
  }

  /** @return whether the chain holds a Delta conflict that re-running the write may resolve */
  public static boolean isRetryableConflict(Throwable t) {
    return deltaConflict(t).map(c -> RETRYABLE_CONFLICTS.contains(c.getClass().getSimpleName()))
        .orElse(false);
  }

  /** @return the operation of the other writer named in a Delta conflict's message, or "" */
  public static String conflictingOperation(Throwable conflict) {
    if (conflict instanceof org.apache.spark.SparkThrowable st) {
      java.util.Map<String, String> p;
      try {
        p = st.getMessageParameters();
      } catch (RuntimeException | AssertionError e) { // built from a message, not an error class
        p = null;
      }
      if (p != null && p.get("operation") != null) {
        return p.get("operation") + (p.get("version") == null ? ""
            : " (version " + p.get("version") + ")");
      }
    }
    return operationIn(String.valueOf(conflict.getMessage()));
  }

  /** @return the other writer's operation named in a conflict message's text, or "" */
  public static String operationIn(String msg) {
    Matcher m = OPERATION.matcher(msg);
    Matcher v = VERSION.matcher(msg);
    if (!m.find()) {
      m = CONCURRENT_OP.matcher(msg);
      v = AT_VERSION.matcher(msg);
      if (!m.find()) {
        return "";
      }
    }
    return m.group(1) + (v.find() ? " (version " + v.group(1) + ")" : "");
  }

  /** @return whether the chain holds a storage outage (unreachable, timed out, throttled, 5xx) */
  public static boolean isStorageUnavailable(Throwable t) {
    return chain(t).stream().anyMatch(c -> STORAGE_CAUSES.contains(c.getClass().getName()));
  }

  /** @return whether the top is a Spark analysis error (unknown table or column, bad SQL) */
  public static Optional<Throwable> analysisError(Throwable t) {
    return chain(t).stream().filter(c -> {
      String n = c.getClass().getName();
      return n.equals("org.apache.spark.sql.AnalysisException")
          || n.endsWith(".ParseException") && n.startsWith("org.apache.spark.sql")
          || n.endsWith("ExtendedAnalysisException");
    }).findFirst();
  }

  /** @return the first path or endpoint (s3a://, http(s)://, file:) named in the chain, or "" */
  public static String location(Throwable t) {
    for (Throwable c : chain(t)) {
      Matcher m = LOCATION.matcher(String.valueOf(c.getMessage()));
      if (m.find()) {
        return Secrets.redactValue(m.group(1));
      }
    }
    return "";
  }

  /** @return "Class: message" of a throwable, on one line, secrets redacted */
  public static String oneLine(Throwable t) {
    String msg = t.getMessage() == null ? "" : ": " + t.getMessage().strip();
    int nl = msg.indexOf('\n');
    if (nl >= 0) {
      msg = msg.substring(0, nl);
    }
    return Secrets.redactValue(t.getClass().getSimpleName() + msg);
  }

  /**
   * Turns an uncaught failure into the user-facing error it stands for.
   *
   * @param t what reached the top of the job
   * @param endpoint the configured object store endpoint ("" for AWS or none), for the message
   * @return the error to print and exit with, or empty for a bug (exit 1 with a trace)
   */
  public static Optional<PropensityException> classify(Throwable t, String endpoint) {
    for (Throwable c : chain(t)) {
      if (c instanceof PropensityException p) {
        return Optional.of(p);
      }
    }
    Optional<Throwable> conflict = deltaConflict(t);
    if (conflict.isPresent()) {
      return Optional.of(Errors.writeConflict(conflict.get()));
    }
    if (isStorageUnavailable(t)) {
      return Optional.of(Errors.storageUnavailable(t, endpoint));
    }
    return analysisError(t).map(Errors::analysis);
  }
}
