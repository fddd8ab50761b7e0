package qmpd.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --http ...,tls-cert=,tls-key=} on {@code qmpd.Main} run as a process, with a self-signed
 * certificate openssl makes at test time: curl with {@code --cacert} gets answers, plaintext gets
 * none, and bad TLS files stop start-up with a message that names the problem.
 */
@Timeout(180)
class HttpsTest {
    @TempDir
    Path dir;

    private Path cert;
    private Path key;

    @BeforeEach
    void makeCertificate() throws Exception {
        cert = dir.resolve("cert.pem");
        key = dir.resolve("key.pem");
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out", cert.toString(),
                "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1");
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    /** curl's exit status and output (body, then the status on the last line). */
    private static String[] curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-S", "--max-time", "20", "-w", "\n%{http_code}"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new String[] {String.valueOf(p.exitValue()), out};
    }

    private QmpdProcess start(String httpOptions) throws IOException {
        return QmpdProcess.start(dir, List.of("--http", httpOptions));
    }

    @Test
    void servesHttpsOnlyAndCurlTrustsItsCertificate() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "tls-token\n");
        try (QmpdProcess qmpd = start("host=127.0.0.1,port=0,token-file=" + token + ",tls-cert=" + cert + ",tls-key=" + key)) {
            int port = qmpd.awaitHttp();
            assertTrue(qmpd.output().contains("qmpd: http listening on https://127.0.0.1:" + port), qmpd.output());
            String base = "https://127.0.0.1:" + port;

            String[] r = curl("--cacert", cert.toString(), base + "/healthz");
            assertEquals("0", r[0], r[1]);
            assertTrue(r[1].endsWith("\n200"), r[1]);
            r = curl("--cacert", cert.toString(), "-H", "Authorization: Bearer tls-token", "-X", "POST",
                    "-d", "{\"execute\": \"query-version\", \"id\": 1}", base + "/api/v1/qmp");
            assertEquals("0", r[0], r[1]);
            assertTrue(r[1].contains("\"major\":7") && r[1].endsWith("\n200"), r[1]);
            r = curl("--cacert", cert.toString(), base + "/api/v1/nodes");
            assertTrue(r[1].endsWith("\n401"), r[1]);   // the token still applies

            // Without the CA, curl refuses the self-signed certificate: the TLS is real.
            r = curl(base + "/healthz");
            assertEquals("60", r[0], r[1]);

            // Plaintext gets no HTTP answer on the TLS port.
            r = curl("http://127.0.0.1:" + port + "/healthz");
            assertNotEquals("0", r[0], r[1]);
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            assertThrows(IOException.class, () -> plain.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/healthz")).timeout(Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofString()));

            // QMP over a secure WebSocket, with the JDK's client trusting the same certificate.
            HttpClient tls = HttpClient.newBuilder().sslContext(trusting(cert)).build();
            var messages = new java.util.concurrent.LinkedBlockingQueue<String>();
            var ws = tls.newWebSocketBuilder().header("Authorization", "Bearer tls-token")
                    .buildAsync(URI.create("wss://127.0.0.1:" + port + "/api/v1/qmp-ws"), new java.net.http.WebSocket.Listener() {
                        @Override
                        public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket w, CharSequence d,
                                boolean last) {
                            messages.add(d.toString());
                            w.request(1);
                            return null;
                        }
                    }).get(20, TimeUnit.SECONDS);
            String greeting = messages.poll(20, TimeUnit.SECONDS);
            assertTrue(greeting != null && greeting.startsWith("{\"QMP\""), String.valueOf(greeting));
            ws.abort();
        }
    }

    private static SSLContext trusting(Path pem) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = new FileInputStream(pem.toFile())) {
            ks.setCertificateEntry("qmpd", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    /** Start-up fails with status 1 and a message containing {@code expected}. */
    private void refused(String httpOptions, String expected) throws Exception {
        try (QmpdProcess qmpd = start(httpOptions)) {
            assertEquals(1, qmpd.awaitExit(), qmpd.output());
            assertTrue(qmpd.output().contains(expected), "expected '" + expected + "' in: " + qmpd.output());
        }
    }

    @Test
    void badTlsFilesStopStartUpWithAClearMessage() throws Exception {
        Path missing = dir.resolve("missing.pem");
        refused("port=0,tls-cert=" + missing + ",tls-key=" + key, "TLS certificate file " + missing + " is missing or unreadable");
        refused("port=0,tls-cert=" + cert + ",tls-key=" + dir, "TLS key file " + dir + " is missing or unreadable");
        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a certificate\n");
        refused("port=0,tls-cert=" + garbage + ",tls-key=" + key, "cannot load TLS certificate " + garbage);
        Path other = dir.resolve("other-key.pem");
        run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other.toString());
        refused("port=0,tls-cert=" + cert + ",tls-key=" + other, "TLS key " + other + " does not match the certificate in " + cert);
        refused("port=0,tls-cert=" + cert, "tls-cert and tls-key must be given together");
    }

    @Test
    void nonLoopbackWithoutTokenIsRefusedWithTlsToo() throws Exception {
        refused("host=0.0.0.0,port=0,tls-cert=" + cert + ",tls-key=" + key,
                "refusing to serve HTTP on non-loopback address '0.0.0.0' without a token file");
    }
}
