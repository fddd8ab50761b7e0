package qmpd.block.driver.blkdebug;

import qmpd.aio.AioContext;
import qmpd.aio.AioTimer;
import qmpd.aio.annotation.HomeThread;
import qmpd.block.BlockChild;
import qmpd.block.BlockDriverState;
import qmpd.block.BlockNode;
import qmpd.block.BlockRequest;
import qmpd.block.Concurrency;
import qmpd.block.NativeOperations;
import qmpd.block.Support;
import qmpd.config.schema.block.BlkdebugOptions.InjectError;

import java.util.List;

/**
 * One blkdebug node: checks each request against the rules, then forwards it to the image, fails
 * it, or (x-delay-ns) arms a timer in the home context that does either later. A delayed request
 * stays in flight on this node until its timer fires, so a drain waits for it and a context move
 * never finds a timer armed in the old thread.
 *
 * <p>Fields: {@code image} and {@code rules} are fixed at open; the rules' contents belong to the
 * home thread (see {@link BlkdebugRules}). The home context is the image's, read when needed.
 */
// NativeOperations: every operation reaches this driver so the rules see it; the image's node
// emulates what its own driver lacks.
final class BlkdebugState implements NativeOperations {

    private final BlockNode image;
    private final BlkdebugRules rules;

    BlkdebugState(BlockNode image, BlkdebugRules rules) {
        this.image = image;
        this.rules = rules;
    }

    @Override
    public String driverName() {
        return "blkdebug";
    }

    /** QEMU names a rule-less blkdebug node {@code blkdebug::<image>}; with rules, by its options. */
    @Override
    public String filename() {
        String inner = image.driverState().filename();
        return rules.isEmpty() && inner != null ? "blkdebug::" + inner : null;
    }

    @Override
    public long size() {
        return image.size();
    }

    @Override
    public Concurrency concurrency() {
        return Concurrency.PARALLEL;
    }

    @Override
    public boolean takesDebugEvents() {
        return true;
    }

    @Override
    @HomeThread
    public void debugEvent(String event) {
        assert image.context().inHomeThread() : "blkdebug event outside its home thread";
        rules.event(event);
    }

    @Override
    @HomeThread
    public void submit(BlockRequest req) {
        assert image.context().inHomeThread() : "blkdebug request outside its home thread";
        InjectError rule = rules.check(req.op(), req.offset(), req.length());
        if (rule == null) {
            image.submitFromParent(req);
            return;
        }
        AioContext ctx = image.context();
        if (rule.delayNs() > 0) {
            AioTimer[] timer = new AioTimer[1];
            timer[0] = ctx.timerNew("blkdebug-delay", () -> {
                timer[0].del();
                act(ctx, req, rule, true);
            });
            timer[0].modNs(System.nanoTime() + rule.delayNs());
            return;
        }
        act(ctx, req, rule, rule.immediately());
    }

    /** Fails the request with the rule's errno (now, or from a bottom half), or forwards it when the rule has none. */
    private void act(AioContext ctx, BlockRequest req, InjectError rule, boolean now) {
        if (rule.errno() <= 0) {
            image.submitFromParent(req);
        } else if (now) {
            req.complete(-rule.errno());
        } else {
            // QEMU yields once before failing a request that is not "immediately".
            ctx.runOnce("blkdebug-error", () -> req.complete(-rule.errno()));
        }
    }

    @Override
    public void truncate(long newSize) {
        image.driverState().truncate(newSize);
    }

    @Override
    public List<BlockChild> children() {
        return List.of(new BlockChild("image", BlockChild.Role.FILE, image));
    }
}
