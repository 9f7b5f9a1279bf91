package llmq.ingest.callbacks;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs completion callbacks. Each tenant has its own signing secret, derived from the configured
 * master secret ({@code ingest.callbacks.secret}): {@code hex(HMAC-SHA256(master, "llmq-callback:" + tenant))},
 * shown to operators by {@code GET /admin/tenants/{id}/callback-secret}. A callback carries
 *
 * <pre>X-LLMQ-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(tenant secret, t + "." + body)&gt;</pre>
 *
 * so a receiver recomputes the HMAC over the timestamp and the exact body bytes, compares in constant
 * time, and rejects old timestamps to stop replays (the scheme of Stripe's webhooks).
 */
public final class CallbackSigner {

    public static final String HEADER = "X-LLMQ-Signature";

    private final byte[] master;

    public CallbackSigner(String masterSecret) {
        this.master = masterSecret.getBytes(StandardCharsets.UTF_8);
    }

    /** The tenant's signing secret (hex). */
    public String tenantSecret(String tenantId) {
        return HexFormat.of().formatHex(hmac(master, ("llmq-callback:" + tenantId).getBytes(StandardCharsets.UTF_8)));
    }

    /** The header value for {@code body} sent at {@code epochSeconds}. */
    public String sign(String tenantId, long epochSeconds, byte[] body) {
        return "t=" + epochSeconds + ",v1=" + signature(tenantSecret(tenantId), epochSeconds, body);
    }

    /** {@code hex(HMAC-SHA256(secret, t + "." + body))}: what a receiver computes to verify. */
    public static String signature(String tenantSecret, long epochSeconds, byte[] body) {
        byte[] prefix = (epochSeconds + ".").getBytes(StandardCharsets.UTF_8);
        byte[] signed = new byte[prefix.length + body.length];
        System.arraycopy(prefix, 0, signed, 0, prefix.length);
        System.arraycopy(body, 0, signed, prefix.length, body.length);
        return HexFormat.of().formatHex(hmac(tenantSecret.getBytes(StandardCharsets.UTF_8), signed));
    }

    /** Verifies a header value against a body (for receivers written in Java, and tests). */
    public static boolean verify(String tenantSecret, String header, byte[] body) {
        long t = -1;
        String v1 = null;
        for (String part : header.split(",")) {
            String[] kv = part.trim().split("=", 2);
            if (kv.length == 2 && kv[0].equals("t")) {
                try {
                    t = Long.parseLong(kv[1]);
                } catch (NumberFormatException e) {
                    return false;
                }
            } else if (kv.length == 2 && kv[0].equals("v1")) {
                v1 = kv[1];
            }
        }
        if (t < 0 || v1 == null) {
            return false;
        }
        return MessageDigest.isEqual(signature(tenantSecret, t, body).getBytes(StandardCharsets.UTF_8),
                v1.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }
}
