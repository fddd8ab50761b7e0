package qmpd.block;

/**
 * A driver that handles every optional operation itself (FUA, write zeroes, discard, block
 * status), so the node emulates none of them: a filter that forwards them (raw, blkdebug) or a
 * driver with nothing to make stable or allocate (null-co). nbdkit's plugins answer the same
 * question with their {@code can_*} callbacks.
 */
public interface NativeOperations extends BlockDriverState {

    @Override
    default Support fua() {
        return Support.NATIVE;
    }

    @Override
    default Support writeZeroes() {
        return Support.NATIVE;
    }

    @Override
    default Support discard() {
        return Support.NATIVE;
    }

    @Override
    default Support blockStatus() {
        return Support.NATIVE;
    }
}
