package qmpd.block;

/**
 * The Linux errno values the I/O path reports. A request result is {@code >= 0} on success and
 * {@code -errno} on failure, as in QEMU; each export maps these to its protocol in one place.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int EINVAL = 22;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;
    public static final int ECANCELED = 125;

    private Errno() {
    }

    /** A short name for logs and statistics. */
    public static String name(int errno) {
        return switch (Math.abs(errno)) {
            case EPERM -> "EPERM";
            case EIO -> "EIO";
            case ENOMEM -> "ENOMEM";
            case EFBIG -> "EFBIG";
            case ENOSPC -> "ENOSPC";
            case EROFS -> "EROFS";
            case EINVAL -> "EINVAL";
            case EOVERFLOW -> "EOVERFLOW";
            case ENOTSUP -> "ENOTSUP";
            case ESHUTDOWN -> "ESHUTDOWN";
            case ECANCELED -> "ECANCELED";
            default -> "errno " + Math.abs(errno);
        };
    }

    /** Maps a Java I/O failure to an errno; the message of an IOException carries no number. */
    public static int of(Throwable t) {
        String m = t.getMessage() == null ? "" : t.getMessage();
        if (m.contains("No space left")) {
            return ENOSPC;
        }
        if (m.contains("Read-only file system")) {
            return EROFS;
        }
        if (m.contains("File too large")) {
            return EFBIG;
        }
        if (t instanceof UnsupportedOperationException) {
            return ENOTSUP;
        }
        if (t instanceof IllegalArgumentException) {
            return EINVAL;
        }
        return EIO;
    }
}
