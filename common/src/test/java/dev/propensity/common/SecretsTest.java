package dev.propensity.common;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.config.ConfigLoader;
import dev.propensity.common.config.JobConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Redaction by name, by value and by pattern: one case per kind of secret. */
class SecretsTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "spark.hadoop.fs.s3a.access.key", "spark.hadoop.fs.s3a.secret.key",
      "spark.hadoop.fs.s3a.session.token", "spark.hadoop.fs.s3a.encryption.key",
      "spark.hadoop.fs.s3a.server-side-encryption.key",
      "spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net",
      "spark.hadoop.fs.azure.sas.container.acct.blob.core.windows.net",
      "spark.hadoop.fs.azure.sas.fixed.token",
      "spark.hadoop.fs.azure.account.oauth2.client.secret",
      "spark.hadoop.fs.gs.auth.service.account.private.key",
      "spark.hadoop.fs.gs.auth.service.account.private.key.id",
      "spark.hadoop.google.cloud.auth.service.account.json.keyfile",
      "db.password", "api_token", "x-amz-signature", "my-credentials", "apiKey", "PASSWD"})
  void namesThatSuggestASecretAreSecret(String key) {
    assertThat(Secrets.isSecretKey(key)).isTrue();
    assertThat(Secrets.redact(key, "hunter2")).isEqualTo("***");
  }

  @ParameterizedTest
  @ValueSource(strings = {"propensity.warehouse", "propensity.s3.endpoint",
      "propensity.metrics.pushgateway-url", "spark.executor.memory",
      "propensity.schema.id-column", "propensity.features.cleaning.category-aliases.monkey"})
  void ordinaryNamesAreNot(String key) {
    assertThat(Secrets.isSecretKey(key)).isFalse();
  }

  @Test
  void userInfoInAnyUrlIsRedacted() {
    assertThat(Secrets.redactValue("http://admin:hunter2@pushgateway:9091/"))
        .isEqualTo("http://***@pushgateway:9091/");
    assertThat(Secrets.redactValue("https://minio:s3cr3t@10.0.0.1:9000"))
        .isEqualTo("https://***@10.0.0.1:9000");
    assertThat(Secrets.redactValue("s3a://AKIAIOSFODNN7EXAMPLE:wJalr@bucket/x"))
        .isEqualTo("s3a://***@bucket/x");
    assertThat(Secrets.redactValue("http://pushgateway:9091")).isEqualTo("http://pushgateway:9091");
  }

  @Test
  void sasSignaturesTokensPrivateKeysAndAccessKeyIdsAreRedacted() {
    String sas = "https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=co&sp=rl"
        + "&se=2026-12-01&sig=AbC%2Bdef%3D";
    assertThat(Secrets.redactValue(sas)).doesNotContain("AbC%2Bdef").contains("sig=***")
        .startsWith("https://acct.blob.core.windows.net/c?");
    assertThat(Secrets.redactValue("http://gw:9091/?token=abc123&job=x"))
        .isEqualTo("http://gw:9091/?token=***&job=x");
    assertThat(Secrets.redactValue("-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----"))
        .isEqualTo("***");
    assertThat(Secrets.redactValue("key id AKIAIOSFODNN7EXAMPLE here"))
        .isEqualTo("key id *** here");
  }

  @Test
  void renderedConfigCarriesNoSecretInAnyPlace() {
    JobConfig c = ConfigLoader.load(null, List.of(
        "s3.endpoint=\"http://minio:s3cr3t@10.0.0.1:9000\"",
        "metrics.pushgateway-url=\"http://admin:pgpass@gw:9091\"",
        "spark.conf.\"spark.hadoop.fs.s3a.encryption.key\"=enckey1",
        "spark.conf.\"spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net\"=azkey1",
        "spark.conf.\"spark.hadoop.fs.azure.sas.fixed.token\"=\"sv=2022&sig=azsig1\"",
        "spark.conf.\"spark.hadoop.fs.gs.auth.service.account.private.key\"=gcskey1",
        "spark.conf.\"spark.hadoop.fs.s3a.bucket.b.endpoint\"=\"https://u:bucketpw@s3\"",
        "spark.conf.\"spark.executor.memory\"=4g"), Map.of());
    String rendered = c.renderRedacted();
    assertThat(rendered).doesNotContain("s3cr3t", "pgpass", "enckey1", "azkey1", "azsig1",
        "gcskey1", "bucketpw").contains("4g", "http://***@10.0.0.1:9000", "http://***@gw:9091");
    // the config itself keeps the real values
    assertThat(c.string("propensity.s3.endpoint")).contains("s3cr3t");
  }
}
