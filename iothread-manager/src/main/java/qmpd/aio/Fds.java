package qmpd.aio;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.channels.SelectableChannel;
import java.util.Objects;

/**
 * File descriptors of NIO channels, so that a non-blocking {@code SocketChannel} (or a
 * {@code Pipe} end) can be registered with {@link AioContext#setFdHandler} by its fd.
 *
 * <p>Needs {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} at run time. The interface is
 * bound by reflection because {@code javac --release} hides JDK-internal packages whatever the
 * exports. The channel keeps owning the fd: close the channel, never the fd, and remove the
 * handler first.
 */
public final class Fds {
    private static final Class<?> SEL_CH_IMPL;
    private static final MethodHandle GET_FD_VAL;

    static {
        try {
            SEL_CH_IMPL = Class.forName("sun.nio.ch.SelChImpl");
            GET_FD_VAL = MethodHandles.lookup().findVirtual(SEL_CH_IMPL, "getFDVal", MethodType.methodType(int.class));
        } catch (ReflectiveOperationException | IllegalAccessError e) {
            throw new ExceptionInInitializerError("Fds needs --add-exports java.base/sun.nio.ch=ALL-UNNAMED: " + e);
        }
    }

    private Fds() {}

    /** The fd of an open JDK channel (every JDK SelectableChannel implements {@code SelChImpl}). */
    public static int fdOf(SelectableChannel channel) {
        Objects.requireNonNull(channel, "channel");
        if (!SEL_CH_IMPL.isInstance(channel)) {
            throw new IllegalArgumentException("not a JDK channel: " + channel.getClass().getName());
        }
        if (!channel.isOpen()) throw new IllegalArgumentException("channel is closed");
        try {
            return (int) GET_FD_VAL.invoke(channel);
        } catch (Throwable e) {
            throw new IllegalStateException("getFDVal", e);
        }
    }
}
