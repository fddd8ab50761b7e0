package qmpd.aio.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Callable from any thread, including workers; never blocks (QEMU's {@code aio_bh_schedule_oneshot()}).
 *
 * <p>Documentation only, like Netty's {@code @Sharable}; the runtime check is: none.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.METHOD, ElementType.CONSTRUCTOR, ElementType.TYPE})
public @interface AnyThread {
}
