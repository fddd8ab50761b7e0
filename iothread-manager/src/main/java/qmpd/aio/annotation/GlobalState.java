package qmpd.aio.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Called only by the main loop with the {@code GlobalLock} held (QEMU's {@code GLOBAL_STATE_CODE()}).
 *
 * <p>Documentation only, like Netty's {@code @Sharable}; the runtime check is: {@code GlobalLock.assertHeld()}.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.METHOD, ElementType.CONSTRUCTOR, ElementType.TYPE})
public @interface GlobalState {
}
