package dev.propensity.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.propensity.common.serving.InvalidFeatureException;
import dev.propensity.common.serving.LiveScorer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoints, on Jetty's core handler API (no servlets): routing, bearer-token auth,
 * request bodies with a size limit, JSON errors that name the field, metrics and the access log
 * (one JSON line per request on the {@code dev.propensity.serve.access} logger).
 */
final class Api extends Handler.Abstract {

  private static final Logger ACCESS = LoggerFactory.getLogger("dev.propensity.serve.access");
  private static final String JSON_TYPE = "application/json";

  /** A request error: a status and a message naming the field at fault. */
  static final class HttpError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;
    final String field;

    HttpError(int status, String field, String message) {
      super(message);
      this.status = status;
      this.field = field;
    }
  }

  private final ServeSettings settings;
  private final ServingState state;
  private final Metrics metrics;
  private final ObjectMapper json;
  private final byte[] token;

  Api(ServeSettings settings, ServingState state, Metrics metrics, ObjectMapper json) {
    this.settings = settings;
    this.state = state;
    this.metrics = metrics;
    this.json = json.copy().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    this.token = settings.token().map(t -> ("Bearer " + t).getBytes(StandardCharsets.UTF_8))
        .orElse(null);
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    long start = System.nanoTime();
    String method = request.getMethod();
    String path = Request.getPathInContext(request);
    String route = route(path);
    int status;
    ByteBuffer body;
    String type = JSON_TYPE;
    try {
      if (route.equals("/metrics") && method.equals("GET")) {
        status = 200;
        body = ByteBuffer.wrap(metrics.render().getBytes(StandardCharsets.UTF_8));
        type = "text/plain; version=0.0.4; charset=utf-8";
      } else {
        Answer a = answer(method, path, route, request);
        status = a.status();
        body = a.body();
        if (a.tableVersion() != null) {
          response.getHeaders().put("X-Table-Version", a.tableVersion());
        }
      }
    } catch (HttpError e) {
      status = e.status;
      body = error(e.status, e.field, e.getMessage());
      if (e.status == 401) {
        response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
      }
    } catch (RuntimeException e) {
      status = 500;
      body = error(500, null, "Internal error: " + e);
      LoggerFactory.getLogger(Api.class).error("serve: {} {} failed", method, path, e);
    }
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    int length = body.remaining();
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, length);
    long nanos = System.nanoTime() - start;
    metrics.request(route, status, nanos);
    if (settings.accessLog() && ACCESS.isInfoEnabled()) {
      ACCESS.info("{\"method\":\"{}\",\"path\":\"{}\",\"route\":\"{}\",\"status\":{},"
          + "\"micros\":{},\"bytes\":{},\"remote\":\"{}\"}", method, Metrics.escape(path), route,
          status, nanos / 1000, length, Request.getRemoteAddr(request));
    }
    response.write(true, body, callback);
    return true;
  }

  private record Answer(int status, ByteBuffer body, String tableVersion) {}

  /** @return the route template, the endpoint label of the metrics */
  static String route(String path) {
    if (path.startsWith("/customers/")) {
      return "/customers/{id}";
    }
    return switch (path) {
      case "/health", "/ready", "/metrics", "/score", "/score/batch", "/admin/reload" -> path;
      default -> "other";
    };
  }

  private Answer answer(String method, String path, String route, Request request) {
    ServingState.Loaded s = state.get();
    switch (route) {
      case "/health":
        requireMethod(method, "GET");
        return ok(Map.of("status", "alive"));
      case "/ready":
        requireMethod(method, "GET");
        return ready(s);
      case "/customers/{id}":
        requireMethod(method, "GET");
        return lookup(s, URLDecoder.decode(path.substring("/customers/".length()),
            StandardCharsets.UTF_8));
      case "/score":
        requireMethod(method, "POST");
        authorize(request);
        return score(s, request, false);
      case "/score/batch":
        requireMethod(method, "POST");
        authorize(request);
        return score(s, request, true);
      case "/admin/reload":
        requireMethod(method, "POST");
        authorize(request);
        return reload();
      default:
        throw new HttpError(404, null, "No endpoint " + method + " " + path + "; endpoints: GET"
            + " /customers/{id}, POST /score, POST /score/batch, POST /admin/reload, GET /health,"
            + " GET /ready, GET /metrics");
    }
  }

  private static void requireMethod(String method, String allowed) {
    if (!method.equals(allowed)) {
      throw new HttpError(405, null, "Method " + method + " not allowed here; use " + allowed);
    }
  }

  private void authorize(Request request) {
    if (token == null) {
      return;
    }
    String given = request.getHeaders().get(HttpHeader.AUTHORIZATION);
    if (given == null || !MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8))) {
      throw new HttpError(401, "Authorization", given == null
          ? "Missing header Authorization: Bearer <token> (auth is on for /score and /admin)"
          : "Invalid bearer token");
    }
  }

  private Answer ready(ServingState.Loaded s) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("ready", s.ready());
    body.put("table", settings.table(LookupTable.TABLE));
    body.put("table_version", s.lookup().map(l -> (Object) l.version()).orElse(null));
    body.put("customers", s.lookup().map(LookupTable::size).orElse(0));
    body.put("run_id", s.model().runId().orElse(null));
    body.put("live_scoring", s.model().scorer().isPresent());
    s.model().scorer().map(LiveScorer::reasonCodesUnavailable)
        .ifPresent(why -> body.put("reason_codes_unavailable", why));
    s.model().unavailable().ifPresent(u -> body.put("live_scoring_unavailable", u));
    body.put("loaded_at", s.loadedAt().toString());
    return new Answer(s.ready() ? 200 : 503, ByteBuffer.wrap(write(body)), null);
  }

  private Answer lookup(ServingState.Loaded s, String id) {
    LookupTable t = s.lookup().orElseThrow(() -> new HttpError(503, null, "Not ready: no"
        + " lookup table loaded yet from " + settings.table(LookupTable.TABLE)
        + " (run the score job; see GET /ready)"));
    ByteBuffer row = t.get(id);
    if (row == null) {
      throw new HttpError(404, "customer_id", "Unknown customer_id '" + id + "' in "
          + LookupTable.TABLE + " version " + t.version());
    }
    return new Answer(200, row, Long.toString(t.version()));
  }

  private Answer score(ServingState.Loaded s, Request request, boolean batch) {
    LiveScorer scorer = s.model().scorer().orElseThrow(() -> new HttpError(
        s.model().runId().isPresent() ? 501 : 503, null,
        s.model().unavailable().orElse("no model")));
    Object parsed = parse(request);
    if (!batch) {
      Map<String, Object> row = object(parsed, "body");
      return ok(scored(scorer, row, ""));
    }
    Object rows = object(parsed, "body").get("rows");
    if (!(rows instanceof List<?> list)) {
      throw new HttpError(400, "rows", "Invalid field 'rows': expected an array of feature"
          + " objects, e.g. {\"rows\": [{...}, {...}]}");
    }
    if (list.size() > settings.batchLimit()) {
      throw new HttpError(413, "rows", "Too many rows in 'rows': " + list.size()
          + " (the limit is propensity.serve.batch-limit = " + settings.batchLimit() + ")");
    }
    List<Object> results = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      results.add(scored(scorer, object(list.get(i), "rows[" + i + "]"), "rows[" + i + "]."));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("run_id", scorer.runId());
    body.put("results", results);
    return ok(body);
  }

  private static Map<String, Object> scored(LiveScorer scorer, Map<String, Object> row,
      String where) {
    LiveScorer.Result r;
    try {
      r = scorer.score(row);
    } catch (InvalidFeatureException e) {
      throw new HttpError(400, where + e.field(), (where.isEmpty() ? "" : where) + e.getMessage());
    }
    Map<String, Object> out = new LinkedHashMap<>();
    if (row.containsKey("customer_id")) {
      out.put("customer_id", row.get("customer_id"));
    }
    out.put("propensity", r.propensity());
    out.put("propensity_raw", r.raw());
    out.put("bin", r.bin());
    out.put("group_label", r.group());
    out.put("voter_probabilities", r.voterProbabilities());
    out.put("unseen_categories", r.unseen());
    if (r.reasonCodes() != null) {
      out.put("reason_codes", r.reasonCodes());
    }
    out.put("run_id", scorer.runId());
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> object(Object value, String field) {
    if (!(value instanceof Map)) {
      throw new HttpError(400, field, "Invalid " + field + ": expected a JSON object of"
          + " features, got " + (value == null ? "null" : value instanceof List ? "an array"
              : "a " + value.getClass().getSimpleName()));
    }
    return (Map<String, Object>) value;
  }

  private Object parse(Request request) {
    long declared = request.getLength();
    if (declared > settings.maxBodyBytes()) {
      throw tooLarge(declared);
    }
    byte[] body;
    try (InputStream in = Content.Source.asInputStream(request)) {
      body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, settings.maxBodyBytes() + 1));
    } catch (IOException e) {
      throw new HttpError(400, "body", "Cannot read the request body: " + e.getMessage());
    }
    if (body.length > settings.maxBodyBytes()) {
      throw tooLarge(body.length);
    }
    if (body.length == 0) {
      throw new HttpError(400, "body", "Empty body: expected a JSON object");
    }
    try {
      return json.readValue(body, Object.class);
    } catch (JsonProcessingException e) {
      throw new HttpError(400, "body", "Malformed JSON at line " + e.getLocation().getLineNr()
          + ", column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new HttpError(400, "body", "Cannot read the request body: " + e.getMessage());
    }
  }

  private HttpError tooLarge(long bytes) {
    return new HttpError(413, "body", "Request body of " + bytes + " bytes is over the limit"
        + " of " + settings.maxBodyBytes() + " (propensity.serve.max-body-size)");
  }

  private Answer reload() {
    ServingState.Reload r;
    try {
      r = state.reload(true);
    } catch (RuntimeException e) {
      throw new HttpError(500, null, "Reload failed, the previous state keeps serving: " + e);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("reloaded", r.changed());
    body.put("seconds", r.seconds());
    body.put("table_version", r.state().lookup().map(l -> (Object) l.version()).orElse(null));
    body.put("run_id", r.state().model().runId().orElse(null));
    return ok(body);
  }

  private Answer ok(Object body) {
    return new Answer(200, ByteBuffer.wrap(write(body)), null);
  }

  private byte[] write(Object body) {
    try {
      return json.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot write a response", e);
    }
  }

  private ByteBuffer error(int status, String field, String message) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", status);
    body.put("error", message);
    if (field != null) {
      body.put("field", field);
    }
    return ByteBuffer.wrap(write(body));
  }
}
