# Shared by bin/qmpd, bin/test and bench/: find a JDK 25+ and Maven, build when stale.
# Sourced, not run.

qmpd_root() { cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd; }

# Prints the major version of the java binary given as $1 (e.g. 25), or nothing. The JDK's
# release file answers without starting a JVM (that costs 0.1 s or more on every bin/qmpd start).
qmpd_java_major() {
    local v release
    release="$(dirname "$(dirname "$1")")/release"
    if [ -r "$release" ]; then
        v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release" | head -n1)
    fi
    if [ -z "${v:-}" ]; then
        v=$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1)
    fi
    printf '%s' "${v%%.*}"
}

# Sets JAVA_HOME to a JDK 25 or newer: JAVA_HOME if it qualifies, else the newest under /usr/lib/jvm.
qmpd_find_jdk() {
    local cand major best="" best_major=0
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
        major=$(qmpd_java_major "$JAVA_HOME/bin/java")
        if [ -n "$major" ] && [ "$major" -ge 25 ]; then export JAVA_HOME; return 0; fi
    fi
    for cand in /usr/lib/jvm/*/ /usr/local/lib/jvm/*/ /opt/java/*/ /opt/jdk*/; do
        [ -x "${cand}bin/javac" ] || continue
        major=$(qmpd_java_major "${cand}bin/java")
        [ -n "$major" ] || continue
        if [ "$major" -ge 25 ] && [ "$major" -gt "$best_major" ]; then best="${cand%/}"; best_major=$major; fi
    done
    if [ -z "$best" ]; then
        echo "qmpd: no JDK 25 or newer found (JAVA_HOME=${JAVA_HOME:-unset}, searched /usr/lib/jvm)." >&2
        echo "qmpd: install one, e.g. 'apt-get install temurin-25-jdk' or 'apt-get install openjdk-25-jdk', or set JAVA_HOME." >&2
        return 1
    fi
    export JAVA_HOME="$best"
}

# Sets MVN to a Maven 3.8+ command.
qmpd_find_maven() {
    if command -v mvn >/dev/null 2>&1; then MVN=mvn; return 0; fi
    echo "qmpd: Maven is not installed; 'apt-get install maven' provides it." >&2
    return 1
}

# The JVM flags qmpd needs: FFM for epoll/eventfd, the fd of NIO channels.
QMPD_JVM_FLAGS=(--enable-native-access=ALL-UNNAMED
                --add-exports java.base/sun.nio.ch=ALL-UNNAMED
                --add-opens java.base/sun.nio.ch=ALL-UNNAMED
                --sun-misc-unsafe-memory-access=allow)

# How the daemon runs (bin/qmpd; bench/qmp_bench.py starts it the same way). Each flag's reason
# and the figures behind it: docs/startup-and-footprint.md.
QMPD_RUN_FLAGS=(-XX:+UseSerialGC -XX:TieredStopAtLevel=4 -Xss1m -Xms16m
                -Xlog:disable -Xlog:all=warning:stderr)

QMPD_JAR_REL=qmp-server/target/qmpd.jar

# Builds the distribution when the jar is missing or older than any source or pom.
qmpd_build_if_stale() {
    local root=$1 jar="$1/$QMPD_JAR_REL"
    if [ -f "$jar" ] && [ -z "$(find "$root" -path "$root/bench" -prune -o \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) -newer "$jar" -print -quit 2>/dev/null)" ]; then
        return 0
    fi
    echo "qmpd: building the distribution (first run or sources changed)..." >&2
    (cd "$root" && "$MVN" -q -B -DskipTests -pl qmp-server -am package) >&2 || {
        echo "qmpd: build failed" >&2; return 1; }
}
