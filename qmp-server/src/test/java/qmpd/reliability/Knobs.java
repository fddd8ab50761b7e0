package qmpd.reliability;

/**
 * How long the reliability harnesses run: a small default that keeps CI bounded, raised on demand
 * with a system property ({@code mvn ... -Dqmpd.reliability.kills=200}) or the matching environment
 * variable ({@code QMPD_RELIABILITY_KILLS=200}).
 */
final class Knobs {
    private Knobs() {
    }

    /** The value of {@code qmpd.reliability.<name>} or {@code QMPD_RELIABILITY_<NAME>}, else {@code ciDefault}. */
    static int get(String name, int ciDefault) {
        String v = System.getProperty("qmpd.reliability." + name);
        if (v == null || v.isBlank()) {
            v = System.getenv("QMPD_RELIABILITY_" + name.toUpperCase());
        }
        return v == null || v.isBlank() ? ciDefault : Integer.parseInt(v.strip());
    }
}
