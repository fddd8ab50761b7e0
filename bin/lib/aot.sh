# The JVM's ahead-of-time cache for bin/qmpd (JEP 483/514/515): classes of a training run,
# loaded and linked, with their profiles, so that a start skips most class loading. Sourced
# after common.sh, not run.
#
# The cache sits next to the jar (qmp-server/target/qmpd.aot) and is rebuilt when the jar is
# newer or the JDK is another one. Building it costs one training run (qmpd.AotTraining, about
# 10 s) on the first start after a build. Whatever goes wrong, qmpd still starts: a failed
# training run is reported once and skipped until the jar changes, and a cache the JVM cannot
# use only makes it warn (on stderr) and start without it (-XX:AOTMode=auto, the default).
# QMPD_AOT=off starts without the cache and builds none; QMPD_AOT_CACHE=<file> puts it elsewhere.

# Sets QMPD_AOT_FLAGS to the flags that use the cache, creating it first when needed. $1 is the
# repository root; the remaining arguments are the JVM flags the daemon runs with (the training
# run uses the same ones: the cache records them).
qmpd_aot_prepare() {
    local root=$1; shift
    local jar="$root/$QMPD_JAR_REL"
    local cache="${QMPD_AOT_CACHE:-${jar%.jar}.aot}"
    local stamp="$cache.jdk" failed="$cache.failed"
    local jdk
    QMPD_AOT_FLAGS=()
    if [ "${QMPD_AOT:-on}" = off ]; then
        return 0
    fi
    jdk="$JAVA_HOME $(grep -E "^(IMPLEMENTOR_VERSION|JAVA_RUNTIME_VERSION)=" "$JAVA_HOME/release" 2>/dev/null | tr -d "\n")"
    if [ -f "$cache" ] && [ "$cache" -nt "$jar" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$jdk" ]; then
        QMPD_AOT_FLAGS=(-XX:AOTCache="$cache")
        return 0
    fi
    if [ -f "$failed" ] && [ "$failed" -nt "$jar" ] && [ "$(cat "$failed")" = "$jdk" ]; then
        return 0   # reported when it failed; tried again after the next build
    fi
    if qmpd_aot_train "$jar" "$cache" "$jdk" "$@" && [ -f "$cache" ]; then
        QMPD_AOT_FLAGS=(-XX:AOTCache="$cache")
    else
        printf '%s\n' "$jdk" > "$failed" 2>/dev/null || true
    fi
}

# Runs qmpd.AotTraining under -XX:AOTCacheOutput into a private file, then moves it into place,
# so that two starts at once never see half a cache. Its output goes to a log shown on failure.
qmpd_aot_train() {
    local jar=$1 cache=$2 jdk=$3; shift 3
    local stamp="$cache.jdk" tmp log rc=0
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/qmpd-aot.XXXXXX") || return 1
    log="$tmp/training.log"
    echo "qmpd: creating the start-up cache (once per build)..." >&2
    QMPD_RUNTIME_DIR="$tmp/run" QMPD_HTTP_PORT=0 \
        timeout 300 "$JAVA_HOME/bin/java" "$@" -XX:AOTCacheOutput="$tmp/qmpd.aot" \
        -cp "$jar" qmpd.AotTraining >"$log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ] && [ -s "$tmp/qmpd.aot" ] && mv -f "$tmp/qmpd.aot" "$cache.$$" \
            && printf '%s\n' "$jdk" > "$stamp.$$" 2>/dev/null; then
        if mv -f "$stamp.$$" "$stamp" && mv -f "$cache.$$" "$cache"; then
            rm -rf "$tmp"
            return 0
        fi
    fi
    echo "qmpd: warning: could not create the start-up cache (status $rc); starting without it." >&2
    sed 's/^/qmpd: training: /' "$log" | tail -n 20 >&2
    rm -rf "$tmp"
    rm -f "$cache.$$" "$stamp.$$"
    return 1
}
