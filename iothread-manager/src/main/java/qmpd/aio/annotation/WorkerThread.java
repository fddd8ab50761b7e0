package qmpd.aio.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs only on a ThreadPool worker; may block (QEMU's {@code ThreadPoolFunc}).
 *
 * <p>Documentation only, like Netty's {@code @Sharable}; the runtime check is: {@code !AioContext.inAnyHomeThread()}.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.METHOD, ElementType.CONSTRUCTOR, ElementType.TYPE})
public @interface WorkerThread {
}
