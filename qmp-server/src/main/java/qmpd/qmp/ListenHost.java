package qmpd.qmp;

import java.io.IOException;
import java.net.InetAddress;

/**
 * Where a TCP listener of QMP or NBD may bind (docs/command-line.md, "Network listeners"). As in
 * qemu-storage-daemon, the host is always named by the user, so binding 0.0.0.0 or a public address
 * is the user's explicit choice; qmpd only refuses the one way to get every interface by omission,
 * an empty host (QEMU reads {@code host=} as "all interfaces"), and warns when a listener without
 * authentication is reachable from other machines. The HTTP gateway is stricter: it refuses a
 * non-loopback host unless a token file is given.
 *
 * <p>Stateless; any thread (resolving a name may block on DNS: call it where blocking is allowed).
 */
public final class ListenHost {
    private ListenHost() {
    }

    /**
     * Returns {@code host} if it names an address.
     *
     * @throws IllegalArgumentException for an empty host, with the message users see
     */
    public static String requireNamed(String host) {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("an empty host would listen on every interface; name the address "
                    + "(127.0.0.1 for this machine only, 0.0.0.0 or :: for every interface)");
        }
        return host;
    }

    /** True if every address {@code host} resolves to is a loopback one (false if it does not resolve). */
    public static boolean isLoopback(String host) {
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The warning printed for an unauthenticated listener other machines can reach. */
    public static String exposedWarning(String what, String address) {
        return what + " listens on " + address + ", reachable from other machines without authentication";
    }
}
