package llmq.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import java.util.UUID;
import llmq.common.auth.ApiKeys;
import llmq.common.db.DbConfig;
import llmq.ingest.callbacks.CallbackSigner;
import llmq.ingest.support.Api;
import llmq.ingest.support.ConfigTables;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin API against the real PostgreSQL: tenants (with tier presets), keys shown once and stored
 * hashed, revocation, prices — and each change reaching admission through the {@code llm.config.*}
 * topics (published here by a stand-in for billing's change data capture).
 */
@IntegrationTest
class AdminApiIT {

    static final String TOKEN = "admin-token-for-the-tests-0123";
    static final String CALLBACK_SECRET = "admin-it-callback-secret-0123";
    static Infra infra;
    static DbConfig db;
    static IngestApi ingest;
    static Api api;
    static final String run = UUID.randomUUID().toString().substring(0, 8);

    @BeforeAll
    static void start(Infra shared) {
        infra = shared;
        db = infra.postgres().db();
        ingest = IngestApi.start(infra.settings(Map.of(
                "ingest.port", "0",
                "ingest.admin-token", TOKEN,
                "ingest.models", "sim-small",
                "ingest.callbacks.secret", CALLBACK_SECRET,
                "ingest.callbacks.group-id", "admin-it-" + run,
                "ingest.status.application-id", "admin-it-" + run,
                "ingest.status.state-dir", infra.newDirectory("admin-status").toString())));
        api = new Api(ingest.url());
    }

    @AfterAll
    static void stop() {
        if (ingest != null) {
            ingest.close();
        }
    }

    private static HttpResponse<String> admin(String method, String path, String body) {
        return api.call(method, path, TOKEN, body);
    }

    private static JsonNode json(HttpResponse<String> r) {
        return Api.json(r);
    }

    @Test
    void shouldRequireTheAdminToken() {
        assertThat(api.get("/admin/tenants", null).statusCode()).isEqualTo(401);
        assertThat(api.get("/admin/tenants", "not-the-admin-token-000").statusCode()).isEqualTo(401);
        assertThat(api.post("/admin/api-keys", "not-the-admin-token-000", "{\"tenant_id\":\"x\"}").statusCode()).isEqualTo(401);
        assertThat(admin("GET", "/admin/tenants", null).statusCode()).isEqualTo(200);
    }

    @Test
    void shouldCreateATenantAndAKeyShownOnceThatAdmitsOnceTheChangeIsStreamedAndIsRefusedWhenRevoked() throws Exception {
        String tenant = "adm-" + run;
        HttpResponse<String> created = admin("POST", "/admin/tenants", "{\"id\":\"" + tenant + "\",\"name\":\"Admin Co\",\"tier\":\"free\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(json(created).path("default_priority").asText()).isEqualTo("low");
        assertThat(json(created).path("max_priority").asText()).isEqualTo("normal");
        assertThat(json(created).path("rpm_limit").asInt()).isEqualTo(60);
        assertThat(admin("POST", "/admin/tenants", "{\"id\":\"" + tenant + "\"}").statusCode()).as("again").isEqualTo(409);
        HttpResponse<String> bad = admin("POST", "/admin/tenants", "{\"id\":\"x\",\"max_priority\":\"urgent\"}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(json(bad).path("error").path("field").asText()).isEqualTo("max_priority");

        HttpResponse<String> k = admin("POST", "/admin/api-keys", "{\"tenant_id\":\"" + tenant + "\",\"name\":\"ci\"}");
        assertThat(k.statusCode()).as(k.body()).isEqualTo(201);
        String key = json(k).path("key").asText();
        String keyId = json(k).path("id").asText();
        assertThat(ApiKeys.keyId(key)).isEqualTo(keyId);
        HttpResponse<String> list = admin("GET", "/admin/api-keys?tenant_id=" + tenant, null);
        assertThat(list.body()).contains(keyId).doesNotContain(key).doesNotContain(ApiKeys.hash(key)).doesNotContain("\"key\"");
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement("SELECT key_hash FROM api_keys WHERE id = ?")) {
            ps.setString(1, keyId);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).as("only the hash is stored").isEqualTo(ApiKeys.hash(key)).isNotEqualTo(key);
            }
        }
        assertThat(admin("POST", "/admin/api-keys", "{\"tenant_id\":\"nobody-" + run + "\"}").statusCode()).isEqualTo(404);

        ConfigTables.publish(infra, db);
        HttpResponse<String> admitted = KafkaIo.until(() -> api.post("/v1/requests", key, Api.request("sim-small", "hi")),
                r -> r.statusCode() == 202);
        assertThat(admitted.statusCode()).isEqualTo(202);
        assertThat(json(admitted).path("priority").asText()).as("the tier's default").isEqualTo("low");
        assertThat(admitted.headers().firstValue("X-RateLimit-Limit")).as("the tier's RPM").contains("60");

        HttpResponse<String> revoked = admin("DELETE", "/admin/api-keys/" + keyId, null);
        assertThat(revoked.statusCode()).isEqualTo(200);
        assertThat(json(revoked).path("revoked_at").isTextual()).isTrue();
        ConfigTables.publish(infra, db);
        assertThat(KafkaIo.until(() -> api.post("/v1/requests", key, Api.request("sim-small", "hi")), r -> r.statusCode() == 401)
                .statusCode()).isEqualTo(401);
        assertThat(admin("DELETE", "/admin/api-keys/nope-" + run, null).statusCode()).isEqualTo(404);
    }

    @Test
    void shouldChangeATenantsLimitsAndLevelsForAdmission() {
        String tenant = "chg-" + run;
        assertThat(admin("POST", "/admin/tenants", "{\"id\":\"" + tenant + "\",\"tier\":\"standard\"}").statusCode()).isEqualTo(201);
        String key = json(admin("POST", "/admin/api-keys", "{\"tenant_id\":\"" + tenant + "\"}")).path("key").asText();
        HttpResponse<String> changed = admin("PATCH", "/admin/tenants/" + tenant, "{\"rpm_limit\":120,\"max_priority\":\"realtime\","
                + "\"monthly_budget\":\"25.5\"}");
        assertThat(changed.statusCode()).as(changed.body()).isEqualTo(200);
        assertThat(json(changed).path("rpm_limit").asInt()).isEqualTo(120);
        assertThat(json(changed).path("tier").asText()).isEqualTo("standard");
        assertThat(json(admin("GET", "/admin/tenants/" + tenant, null)).path("monthly_budget").asText()).isEqualTo("25.500000");
        assertThat(admin("PATCH", "/admin/tenants/nobody-" + run, "{\"rpm_limit\":1}").statusCode()).isEqualTo(404);

        ConfigTables.publish(infra, db);
        HttpResponse<String> r = KafkaIo.until(() -> api.post("/v1/requests", key, "{\"model\":\"sim-small\",\"priority\":\"realtime\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"), x -> x.statusCode() == 202);
        assertThat(r.statusCode()).as("realtime allowed after the change").isEqualTo(202);
        assertThat(r.headers().firstValue("X-RateLimit-Limit")).contains("120");
    }

    @Test
    void shouldAddAPriceWhoseModelAdmissionThenKnows() {
        String model = "admin-model-" + run;
        HttpResponse<String> price = admin("POST", "/admin/prices", "{\"model\":\"" + model + "\",\"input_per_million\":\"1.25\","
                + "\"output_per_million\":2.5}");
        assertThat(price.statusCode()).as(price.body()).isEqualTo(201);
        assertThat(json(price).path("input_per_million").asText()).isEqualTo("1.250000");
        assertThat(admin("POST", "/admin/prices", "{\"model\":\"" + model + "\",\"input_per_million\":\"1\",\"output_per_million\":\"1\"}")
                .statusCode()).as("same model and effective_from").isEqualTo(409);
        HttpResponse<String> bad = admin("POST", "/admin/prices", "{\"model\":\"m\",\"input_per_million\":\"-1\",\"output_per_million\":\"1\"}");
        assertThat(json(bad).path("error").path("field").asText()).isEqualTo("input_per_million");
        assertThat(json(admin("GET", "/admin/prices?model=" + model, null)).path("data")).hasSize(1);

        String tenant = "prc-" + run;
        admin("POST", "/admin/tenants", "{\"id\":\"" + tenant + "\",\"tier\":\"premium\"}");
        String key = json(admin("POST", "/admin/api-keys", "{\"tenant_id\":\"" + tenant + "\"}")).path("key").asText();
        ConfigTables.publish(infra, db);
        api.awaitKey(key);
        JsonNode models = KafkaIo.until(() -> json(api.get("/v1/models", key)),
                n -> n.path("data").findValuesAsText("id").contains(model));
        assertThat(models.path("data").findValuesAsText("id")).contains(model, "sim-small");
        assertThat(api.post("/v1/requests", key, Api.request(model, "priced now")).statusCode()).isEqualTo(202);
    }

    @Test
    void shouldShowATenantsCallbackSigningSecret() {
        String tenant = "cb-" + run;
        admin("POST", "/admin/tenants", "{\"id\":\"" + tenant + "\"}");
        HttpResponse<String> r = admin("GET", "/admin/tenants/" + tenant + "/callback-secret", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(json(r).path("secret").asText()).isEqualTo(new CallbackSigner(CALLBACK_SECRET).tenantSecret(tenant));
        assertThat(admin("GET", "/admin/tenants/nobody-" + run + "/callback-secret", null).statusCode()).isEqualTo(404);
    }
}
