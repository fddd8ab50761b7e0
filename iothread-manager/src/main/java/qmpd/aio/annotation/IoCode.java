package qmpd.aio.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Called from any context's home thread; walks children under the graph read lock (QEMU's {@code IO_CODE()}).
 *
 * <p>Documentation only, like Netty's {@code @Sharable}; the runtime check is: {@code GraphLock.assertReadable()}.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.METHOD, ElementType.CONSTRUCTOR, ElementType.TYPE})
public @interface IoCode {
}
