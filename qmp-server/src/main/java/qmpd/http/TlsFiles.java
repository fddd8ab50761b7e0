package qmpd.http;

import io.vertx.core.Vertx;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.X509KeyManager;

/**
 * The PEM certificate (chain) and private key of an HTTPS listener ({@code --http
 * ...,tls-cert=FILE,tls-key=FILE}). {@link #check} loads both with the same code the listener
 * uses and proves the key belongs to the certificate by signing with one and verifying with the
 * other: the JDK's TLS engine would otherwise accept a mismatched pair and only fail each
 * handshake. Immutable; any thread.
 */
record TlsFiles(Path cert, Path key) {
    /** The listener's key and certificate options. */
    PemKeyCertOptions options() {
        return new PemKeyCertOptions().setCertPath(cert.toString()).setKeyPath(key.toString());
    }

    /**
     * Fails with a message naming the file when either cannot be read or parsed, or when the key
     * does not match the certificate.
     */
    void check(Vertx vertx) throws IOException {
        readable(cert, "certificate");
        readable(key, "key");
        X509KeyManager km;
        try {
            KeyManagerFactory kmf = options().getKeyManagerFactory(vertx);
            km = first(kmf.getKeyManagers());
        } catch (Exception e) {
            throw new IOException("cannot load TLS certificate " + cert + " and key " + key + ": " + message(e), e);
        }
        String alias = km == null ? null : firstAlias(km);
        X509Certificate[] chain = alias == null ? null : km.getCertificateChain(alias);
        PrivateKey pk = alias == null ? null : km.getPrivateKey(alias);
        if (chain == null || chain.length == 0 || pk == null) {
            throw new IOException("no certificate and key found in " + cert + " and " + key);
        }
        if (!matches(pk, chain[0].getPublicKey())) {
            throw new IOException("TLS key " + key + " does not match the certificate in " + cert);
        }
    }

    private static void readable(Path p, String what) throws IOException {
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
            throw new IOException("TLS " + what + " file " + p + " is missing or unreadable");
        }
    }

    private static X509KeyManager first(KeyManager[] managers) {
        for (KeyManager m : managers) {
            if (m instanceof X509KeyManager x) {
                return x;
            }
        }
        return null;
    }

    private static String firstAlias(X509KeyManager km) {
        for (String type : new String[] {"RSA", "EC", "Ed25519", "EdDSA", "RSASSA-PSS"}) {
            String[] aliases = km.getServerAliases(type, null);
            if (aliases != null && aliases.length > 0) {
                return aliases[0];
            }
        }
        return null;
    }

    private static boolean matches(PrivateKey pk, PublicKey pub) throws IOException {
        String alg = switch (pk.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> throw new IOException("unsupported TLS key algorithm " + pk.getAlgorithm());
        };
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature s = Signature.getInstance(alg);
            s.initSign(pk);
            s.update(challenge);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(pub);
            v.update(challenge);
            return v.verify(sig);
        } catch (java.security.GeneralSecurityException e) {
            return false;   // e.g. an EC key against an RSA certificate
        }
    }

    private static String message(Throwable e) {
        while (e.getCause() != null && e.getMessage() == null) {
            e = e.getCause();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
