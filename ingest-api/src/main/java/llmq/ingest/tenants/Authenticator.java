package llmq.ingest.tenants;

import llmq.common.auth.ApiKeys;
import llmq.ingest.submit.ApiException;

/** Resolves the tenant of an {@code Authorization: Bearer <key>} header, from memory. */
public final class Authenticator {

    private final TenantDirectory directory;

    public Authenticator(TenantDirectory directory) {
        this.directory = directory;
    }

    /** The caller, with the header to pass on when a query is forwarded to another instance. */
    public Caller caller(String authorization) {
        return new Caller(authenticate(authorization), authorization);
    }

    /** The caller's tenant; 401 without a valid active key, 503 before the directory has loaded. */
    public Tenant authenticate(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            throw new ApiException(401, "unauthorized", "Authorization",
                    "missing API key: send 'Authorization: Bearer <key>'");
        }
        String h = authorization.trim();
        if (!h.regionMatches(true, 0, "Bearer ", 0, 7) || h.length() <= 7) {
            throw new ApiException(401, "unauthorized", "Authorization", "expected 'Authorization: Bearer <key>'");
        }
        if (!directory.ready()) {
            throw new ApiException(503, "unavailable", null, "tenant directory not loaded yet; retry shortly", 1);
        }
        return directory.byKeyHash(ApiKeys.hash(h.substring(7).trim()))
                .orElseThrow(() -> new ApiException(401, "unauthorized", "Authorization", "invalid or revoked API key"));
    }
}
