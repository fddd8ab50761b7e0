package qmpd.block.export.nbd;

import qmpd.block.Errno;

/**
 * The one place where a block-layer errno becomes an NBD error (QEMU's system_errno_to_nbd_errno):
 * the protocol knows only a few values, everything else is EINVAL.
 */
public final class NbdErrno {
    private NbdErrno() {
    }

    /** {@code result} is a request result ({@code -errno}) or a positive errno. */
    public static int fromErrno(int result) {
        return switch (Math.abs(result)) {
            case 0 -> 0;
            case Errno.EPERM, Errno.EROFS -> Nbd.EPERM;
            case Errno.EIO -> Nbd.EIO;
            case Errno.ENOMEM -> Nbd.ENOMEM;
            case Errno.ENOSPC, Errno.EFBIG -> Nbd.ENOSPC;
            case Errno.EOVERFLOW -> Nbd.EOVERFLOW;
            case Errno.ENOTSUP -> Nbd.ENOTSUP;
            case Errno.ESHUTDOWN, Errno.ECANCELED -> Nbd.ESHUTDOWN;
            default -> Nbd.EINVAL;
        };
    }
}
