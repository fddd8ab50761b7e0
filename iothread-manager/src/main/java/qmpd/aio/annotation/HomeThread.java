package qmpd.aio.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Called only by the thread that owns the receiver's AioContext, or by a thread that has acquired it (QEMU's {@code IO_OR_GS_CODE()}).
 *
 * <p>Documentation only, like Netty's {@code @Sharable}; the runtime check is: {@code ctx.assertInHomeThread()}.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.METHOD, ElementType.CONSTRUCTOR, ElementType.TYPE})
public @interface HomeThread {
}
