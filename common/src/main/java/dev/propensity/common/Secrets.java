package dev.propensity.common;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides what must never reach a log, {@code settings.conf} or {@code manifest.json}: a setting
 * whose name suggests a secret (any name part that is {@code key}, alone or as in {@code apikey},
 * {@code accessKey}, {@code keyfile}, or contains
 * {@code secret}, {@code token}, {@code password}, {@code credential}, {@code signature}, or is
 * {@code sas}), and, in any other value, the user info of a URL ({@code https://user:pw@host}),
 * secret query parameters (SAS {@code sig=}, {@code token=}, ...), PEM private keys and AWS access
 * key ids. Covers the cloud connectors' secrets by name: {@code fs.s3a.encryption.key},
 * {@code fs.s3a.session.token}, {@code fs.azure.account.key.*}, {@code fs.azure.sas.*},
 * {@code fs.azure.account.oauth2.client.secret}, {@code fs.gs.auth.service.account.private.key}.
 */
public final class Secrets {

  /** What a redacted value or URL part is replaced with. */
  public static final String MASK = "***";

  private static final Set<String> SECRET_PARTS = Set.of("sas", "pwd", "passwd", "sig");
  /** {@code key} alone or run together with a qualifier: accesskey, apikey, keyfile. */
  private static final Pattern KEY_PART = Pattern.compile(
      "(access|secret|private|api|account|encryption|master|signing|shared|auth|client|sse)?"
          + "key(s|id|file)?");
  private static final Pattern SECRET_SUBSTRING =
      Pattern.compile("secret|token|password|passwd|credential|signature|privatekey");
  private static final Pattern URL_USERINFO =
      Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*://)([^/@\\s?#]+)@");
  private static final Pattern SECRET_QUERY = Pattern.compile(
      "(?i)([?&;](?:sig|signature|sv|se|sp|st|spr|srt|ss|skoid|sktid|skt|ske|sks|skv|token"
          + "|access_token|key|api_key|apikey|secret|password|pwd|sas|x-amz-signature"
          + "|x-amz-credential|x-amz-security-token)=)[^&\\s#\"]*");
  private static final Pattern PEM =
      Pattern.compile("-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?(-----END [A-Z ]*PRIVATE"
          + " KEY-----|$)");
  private static final Pattern AWS_KEY_ID = Pattern.compile("\\b(AKIA|ASIA)[0-9A-Z]{16}\\b");

  private Secrets() {}

  /**
   * @param key a setting's name, any separators ({@code .}, {@code -}, {@code _}, quotes)
   * @return whether its value must be redacted whatever it holds
   */
  public static boolean isSecretKey(String key) {
    String lower = key.toLowerCase(Locale.ROOT);
    for (String part : lower.split("[^a-z0-9]+")) {
      if (KEY_PART.matcher(part).matches() || SECRET_PARTS.contains(part)
          || SECRET_SUBSTRING.matcher(part).find()) {
        return true;
      }
    }
    return false;
  }

  /**
   * @param value any text (a setting's value, a URL, a log message)
   * @return the text with URL user info, secret query parameters, PEM private keys and AWS
   *     access key ids replaced by {@link #MASK}
   */
  public static String redactValue(String value) {
    if (value == null || value.isEmpty()) {
      return value;
    }
    String out = PEM.matcher(value).replaceAll(MASK);
    out = URL_USERINFO.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK
        + "@"));
    out = SECRET_QUERY.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK));
    return AWS_KEY_ID.matcher(out).replaceAll(MASK);
  }

  /**
   * @return {@link #MASK} for a secret key, else the value with its secret parts redacted
   */
  public static String redact(String key, String value) {
    return isSecretKey(key) ? MASK : redactValue(value);
  }
}
