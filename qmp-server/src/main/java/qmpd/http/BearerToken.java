package qmpd.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * The shared secret of {@code Authorization: Bearer <token>}, read once from a file (its content,
 * surrounding whitespace removed). Immutable; any thread.
 */
final class BearerToken {
    private final byte[] token;

    private BearerToken(byte[] token) {
        this.token = token;
    }

    /** Reads the token; an empty file is refused, since it would accept an empty bearer. */
    static BearerToken read(Path file) throws IOException {
        String t = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (t.isEmpty()) {
            throw new IOException("token file " + file + " is empty");
        }
        return new BearerToken(t.getBytes(StandardCharsets.UTF_8));
    }

    /** Whether an Authorization header value carries the token; constant time in the token. */
    boolean accepts(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] given = authorization.substring(7).strip().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(token, given);
    }
}
