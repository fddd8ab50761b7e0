package qmpd.metrics;

/** One rendering of every meter: the body and the Content-Type to send it with. */
public record Scrape(String contentType, String body) {
}
