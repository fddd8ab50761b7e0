package qmpd.aio.nativeio;

/** A failed system call and its errno. */
public final class ErrnoException extends RuntimeException {
    private final int errno;

    public ErrnoException(String call, int errno) {
        super(call + " failed: errno " + errno);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
