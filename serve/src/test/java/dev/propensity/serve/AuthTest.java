package dev.propensity.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Bearer-token auth on /score and /admin when the token's variable is set; off otherwise. */
class AuthTest {

  private static final String TOKEN = "s3cret-token-for-tests";

  @Test
  void withATokenScoreAndAdminNeedItAndLookupsDoNot() throws Exception {
    ServeFixture fixture = ServeFixture.get();
    try (ServeServer server = fixture.start(Map.of("PROPENSITY_SERVE_TOKEN", TOKEN))) {
      ServeFixture.Client anonymous = new ServeFixture.Client(server, null);
      ServeFixture.Client wrong = new ServeFixture.Client(server, "not-it");
      ServeFixture.Client right = new ServeFixture.Client(server, TOKEN);
      ServeFixture.Reply denied = anonymous.post("/score", "{}");
      assertThat(denied.status()).isEqualTo(401);
      assertThat(denied.raw().headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
      assertThat(new ObjectMapper().readTree(denied.body()).get("field").asText())
          .isEqualTo("Authorization");
      assertThat(wrong.post("/score/batch", "{}").status()).isEqualTo(401);
      assertThat(anonymous.post("/admin/reload", "").status()).isEqualTo(401);
      assertThat(wrong.post("/admin/reload", "").status()).isEqualTo(401);
      assertThat(right.post("/admin/reload", "").status()).isEqualTo(200);
      // authorized, the request reaches validation
      assertThat(right.post("/score", "{}").status()).isEqualTo(400);
      assertThat(anonymous.get("/health").status()).isEqualTo(200);
      assertThat(anonymous.get("/ready").status()).isEqualTo(200);
      assertThat(anonymous.get("/metrics").body()).doesNotContain(TOKEN);
    }
  }

  @Test
  void withoutTheVariableAuthIsOff() throws Exception {
    ServeFixture fixture = ServeFixture.get();
    try (ServeServer server = fixture.start(Map.of())) {
      ServeFixture.Client anonymous = new ServeFixture.Client(server, null);
      assertThat(anonymous.post("/admin/reload", "").status()).isEqualTo(200);
      assertThat(anonymous.post("/score", "{}").status()).isEqualTo(400);
    }
  }

  @Test
  void theTokenIsNeverPrinted() {
    ServeSettings settings = ServeSettings.fromConfig(ServeFixture.get().config,
        Map.of("PROPENSITY_SERVE_TOKEN", TOKEN));
    assertThat(settings.token()).hasValue(TOKEN);
    assertThat(settings.toString()).doesNotContain(TOKEN).contains("auth=on");
  }
}
