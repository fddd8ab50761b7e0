package qmpd.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import qmpd.qmp.QmpClient;

/** A java.net.http client for one gateway on 127.0.0.1, with the assertions the HTTP tests share. */
final class Http {
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final int port;
    private final String token;

    Http(int port, String token) {
        this.port = port;
        this.token = token;
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    HttpResponse<String> send(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) {
        return QmpClient.obj("{\"v\": " + r.body() + "}").get("v");
    }

    /** The status, the error class in the QMP-shaped body, and a non-empty desc. */
    static void assertError(HttpResponse<String> r, int status, String errorClass) {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(errorClass, json(r).path("error").path("class").asText(), r.body());
        assertFalse(json(r).path("error").path("desc").asText().isEmpty(), r.body());
    }
}
