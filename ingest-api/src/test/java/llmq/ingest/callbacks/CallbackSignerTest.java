package llmq.ingest.callbacks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class CallbackSignerTest {

    private final CallbackSigner signer = new CallbackSigner("a-master-secret-of-some-length");

    private static String hmac(String key, String data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return HexFormat.of().formatHex(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void shouldSignTimestampDotBodyWithTheTenantsDerivedSecret() throws Exception {
        byte[] body = "{\"id\":\"r1\"}".getBytes(StandardCharsets.UTF_8);
        String header = signer.sign("acme", 1_700_000_000L, body);

        String secret = hmac("a-master-secret-of-some-length", "llmq-callback:acme");
        assertThat(signer.tenantSecret("acme")).isEqualTo(secret);
        assertThat(header).isEqualTo("t=1700000000,v1=" + hmac(secret, "1700000000.{\"id\":\"r1\"}"));
        assertThat(CallbackSigner.verify(secret, header, body)).isTrue();
    }

    @Test
    void shouldNotVerifyAnotherBodyTenantOrTimestamp() {
        byte[] body = "{\"id\":\"r1\"}".getBytes(StandardCharsets.UTF_8);
        String header = signer.sign("acme", 1_700_000_000L, body);
        assertThat(CallbackSigner.verify(signer.tenantSecret("acme"), header, "{\"id\":\"r2\"}".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(CallbackSigner.verify(signer.tenantSecret("globex"), header, body)).isFalse();
        assertThat(CallbackSigner.verify(signer.tenantSecret("acme"), header.replace("t=1700000000", "t=1700000001"), body)).isFalse();
        assertThat(signer.tenantSecret("acme")).isNotEqualTo(signer.tenantSecret("globex"));
    }
}
