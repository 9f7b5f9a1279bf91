package llmq.ingest.web;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.Patch;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import llmq.common.auth.ApiKeys;
import llmq.ingest.IngestConfig;
import llmq.ingest.admin.AdminRequests;
import llmq.ingest.admin.AdminStore;
import llmq.ingest.callbacks.CallbackSigner;
import llmq.ingest.submit.ApiException;
import llmq.ingest.submit.InvalidRequestException;

/**
 * The admin API over PostgreSQL: {@code /admin/tenants}, {@code /admin/api-keys}, {@code /admin/prices}.
 * Every call needs {@code Authorization: Bearer <ingest.admin-token>} (401 otherwise); without a token
 * configured the admin API does not exist (404). A key is shown once, when created; listings show key
 * ids only. Changes reach admission through billing's change data capture ({@code llm.config.*}).
 */
@Controller("/admin")
@ExecuteOn(TaskExecutors.BLOCKING)
final class AdminController {

    private final IngestConfig config;
    private final AdminStore store;
    private final AdminRequests requests;
    private final CallbackSigner signer;
    private final WebSupport web;

    AdminController(IngestConfig config, AdminStore store, AdminRequests requests, WebSupport web) {
        this.config = config;
        this.store = store;
        this.requests = requests;
        this.signer = config.callbacks().enabled() ? new CallbackSigner(config.callbacks().secret()) : null;
        this.web = web;
    }

    private void admin(HttpRequest<?> request, String authorization) {
        if (config.adminToken() == null) {
            throw new ApiException(404, "not_found", null, "not found: " + request.getPath());
        }
        String given = authorization == null ? "" : authorization.trim();
        given = given.regionMatches(true, 0, "Bearer ", 0, 7) ? given.substring(7).trim() : "";
        if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), config.adminToken().getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "unauthorized", "Authorization", "admin token required: 'Authorization: Bearer <admin token>'");
        }
        request.setAttribute(AccessLog.TENANT, "(admin)");
    }

    @Get(uri = "/tenants", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> tenants(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization) {
        admin(request, authorization);
        return Responses.json(200, Map.of("object", "list", "data", store.tenants().stream().map(AdminController::tenant).toList()));
    }

    @Post(uri = "/tenants", consumes = MediaType.ALL, produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> createTenant(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                      @Nullable @Body byte[] body) {
        admin(request, authorization);
        return Responses.json(201, tenant(store.createTenant(requests.newTenant(web.json(body, web.maxBody())))));
    }

    @Get(uri = "/tenants/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> tenant(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                @PathVariable String id) {
        admin(request, authorization);
        return Responses.json(200, tenant(store.tenant(id).orElseThrow(() -> ApiException.notFound("tenant", id))));
    }

    @Patch(uri = "/tenants/{id}", consumes = MediaType.ALL, produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> changeTenant(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                      @PathVariable String id, @Nullable @Body byte[] body) {
        admin(request, authorization);
        var json = web.json(body, web.maxBody());
        AdminStore.TenantRow existing = store.tenant(id).orElseThrow(() -> ApiException.notFound("tenant", id));
        return Responses.json(200, tenant(store.updateTenant(requests.change(existing, json))));
    }

    @Get(uri = "/tenants/{id}/callback-secret", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> callbackSecret(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                        @PathVariable String id) {
        admin(request, authorization);
        store.tenant(id).orElseThrow(() -> ApiException.notFound("tenant", id));
        if (signer == null) {
            throw new ApiException(409, "callbacks_disabled", null, "callbacks are not enabled (ingest.callbacks.secret is not set)");
        }
        return Responses.json(200, Map.of("tenant_id", id, "secret", signer.tenantSecret(id),
                "header", CallbackSigner.HEADER, "scheme", "t=<unix seconds>,v1=hex(HMAC-SHA256(secret, t + \".\" + body))"));
    }

    @Get(uri = "/api-keys", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> keys(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                              @Nullable @QueryValue("tenant_id") String tenantId) {
        admin(request, authorization);
        return Responses.json(200, Map.of("object", "list", "data", store.keys(tenantId).stream().map(AdminController::key).toList()));
    }

    @Post(uri = "/api-keys", consumes = MediaType.ALL, produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> createKey(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                   @Nullable @Body byte[] body) {
        admin(request, authorization);
        var json = web.json(body, web.maxBody());
        if (!json.isObject() || !json.path("tenant_id").isTextual() || json.path("tenant_id").asText().isBlank()) {
            throw new InvalidRequestException("tenant_id", "is required");
        }
        if (json.has("name") && !json.get("name").isNull() && (!json.get("name").isTextual() || json.get("name").asText().length() > 200)) {
            throw new InvalidRequestException("name", "must be a string of at most 200 characters");
        }
        String tenant = json.get("tenant_id").asText();
        String name = json.hasNonNull("name") ? json.get("name").asText() : null;
        ApiKeys.Generated k = store.createKey(tenant, name);
        Map<String, Object> out = new LinkedHashMap<>(key(store.key(k.id()).orElseThrow()));
        out.put("key", k.key());
        out.put("note", "the key is shown only now; llmq stores only its hash");
        return Responses.json(201, out);
    }

    @Delete(uri = "/api-keys/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> revokeKey(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                   @PathVariable String id) {
        admin(request, authorization);
        return Responses.json(200, key(store.revokeKey(id)));
    }

    @Get(uri = "/prices", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> prices(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                @Nullable @QueryValue("model") String model) {
        admin(request, authorization);
        return Responses.json(200, Map.of("object", "list", "data", store.prices(model).stream().map(AdminController::price).toList()));
    }

    @Post(uri = "/prices", consumes = MediaType.ALL, produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> addPrice(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                  @Nullable @Body byte[] body) {
        admin(request, authorization);
        return Responses.json(201, price(store.addPrice(requests.newPrice(web.json(body, web.maxBody())))));
    }

    private static Map<String, Object> tenant(AdminStore.TenantRow t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id());
        m.put("object", "tenant");
        m.put("name", t.name());
        m.put("tier", t.tier());
        m.put("default_priority", t.defaultPriority());
        m.put("max_priority", t.maxPriority());
        m.put("weight", t.weight());
        m.put("rpm_limit", t.rpmLimit());
        m.put("tpm_limit", t.tpmLimit());
        m.put("monthly_budget", t.monthlyBudget() == null ? null : t.monthlyBudget().toPlainString());
        m.put("created_at", t.createdAt());
        m.put("updated_at", t.updatedAt());
        return m;
    }

    private static Map<String, Object> key(AdminStore.KeyRow k) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", k.id());
        m.put("object", "api_key");
        m.put("tenant_id", k.tenantId());
        m.put("name", k.name());
        m.put("created_at", k.createdAt());
        m.put("revoked_at", k.revokedAt());
        return m;
    }

    private static Map<String, Object> price(AdminStore.PriceRow p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", p.id());
        m.put("object", "model_price");
        m.put("model", p.model());
        m.put("currency", p.currency());
        m.put("input_per_million", p.inputPerMillion().toPlainString());
        m.put("output_per_million", p.outputPerMillion().toPlainString());
        m.put("cached_input_per_million", p.cachedInputPerMillion() == null ? null : p.cachedInputPerMillion().toPlainString());
        m.put("effective_from", p.effectiveFrom());
        return m;
    }
}
