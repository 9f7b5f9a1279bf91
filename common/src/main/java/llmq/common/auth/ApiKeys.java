package llmq.common.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * API keys: {@code llmq_<keyId>_<secret>}. Only the SHA-256 of the whole key is stored; the
 * key id is public (it names the key in listings and logs), the secret never leaves the
 * response that created it. A fast hash is right here: keys are 190 bits of randomness, not
 * passwords, so they cannot be guessed from their hash.
 */
public final class ApiKeys {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

    private ApiKeys() {
    }

    /** A new key with a random id and secret. */
    public static Generated generate() {
        String id = random(10);
        return new Generated(id, "llmq_" + id + "_" + random(32));
    }

    /** The stored form of a key: lowercase hex SHA-256. */
    public static String hash(String key) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(d.digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The key id of a well-formed key, or null. */
    public static String keyId(String key) {
        if (key == null || !key.startsWith("llmq_")) {
            return null;
        }
        int end = key.indexOf('_', 5);
        return end < 0 ? null : key.substring(5, end);
    }

    private static String random(int n) {
        char[] c = new char[n];
        for (int i = 0; i < n; i++) {
            c[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
        }
        return new String(c);
    }

    /** A freshly generated key: show {@code key} once, store {@link #hash(String)} of it. */
    public record Generated(String id, String key) {
        @Override
        public String toString() {
            return "ApiKey[id=" + id + "]";
        }
    }
}
