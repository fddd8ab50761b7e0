package qmpd.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The logging set-up that replaced logback.xml: same levels, same properties, same line format,
 * and a bad level name falls back to the default instead of failing start-up.
 */
class StderrLogConfiguratorTest {
    private final LoggerContext context = new LoggerContext();

    @AfterEach
    void restore() {
        System.clearProperty("qmpd.log");
        System.clearProperty("qmpd.log.root");
        context.stop();
    }

    private Configurator.ExecutionStatus configure() {
        StderrLogConfigurator c = new StderrLogConfigurator();
        c.setContext(context);
        return c.configure(context);
    }

    @Test
    void quietByDefaultWithOneStderrAppenderAndNoFurtherConfigurator() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("QMPD_LOG") == null, "QMPD_LOG is set here");
        assertEquals(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY, configure());
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertEquals(Level.WARN, root.getLevel());
        assertEquals(Level.WARN, context.getLogger("qmpd").getLevel());
        ConsoleAppender<?> stderr = (ConsoleAppender<?>) root.getAppender("STDERR");
        assertNotNull(stderr);
        assertEquals("System.err", stderr.getTarget());
        assertTrue(stderr.isStarted());
    }

    @Test
    void propertiesRaiseQmpdAndLibraryLevelsSeparately() {
        System.setProperty("qmpd.log", "debug");
        configure();
        assertEquals(Level.DEBUG, context.getLogger("qmpd").getLevel());
        assertEquals(Level.WARN, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
        assertTrue(context.getLogger("qmpd.qmp.server.QmpServer").isDebugEnabled());
        assertTrue(!context.getLogger("io.netty.channel.Foo").isDebugEnabled());

        LoggerContext other = new LoggerContext();
        System.setProperty("qmpd.log.root", "info");
        StderrLogConfigurator c = new StderrLogConfigurator();
        c.setContext(other);
        c.configure(other);
        assertEquals(Level.INFO, other.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
        other.stop();
    }

    @Test
    void anUnknownLevelNameFallsBackToWarn() {
        System.setProperty("qmpd.log", "loud\u0000;{}");
        System.setProperty("qmpd.log.root", "");
        configure();
        assertEquals(Level.WARN, context.getLogger("qmpd").getLevel());
        assertEquals(Level.WARN, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
    }

    @Test
    void linesKeepTheKeyValueFormat() {
        configure();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(StderrLogConfigurator.PATTERN);
        encoder.start();
        Logger log = context.getLogger("qmpd.qmp.server.QmpServer");
        LoggingEvent e = new LoggingEvent("x", log, Level.WARN, "event=close-incomplete error={}", null,
                new Object[] {"boom"});
        e.setThreadName("main");
        String line = new String(encoder.encode(e), StandardCharsets.UTF_8);
        assertTrue(line.matches("ts=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z level=WARN thread=main "
                + "logger=QmpServer event=close-incomplete error=boom\\R"), line);
    }
}
