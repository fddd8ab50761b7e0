package qmpd.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * qmpd's logging set-up, in code rather than a logback.xml: quiet by default; {@code QMPD_LOG=debug}
 * (or {@code -Dqmpd.log=debug}) raises the level of qmpd's own loggers, libraries stay at WARN
 * unless {@code -Dqmpd.log.root=debug}. One line per record, key=value, on stderr (stdout stays free
 * for the launcher). Logback finds it through {@code META-INF/services}; parsing an XML file
 * instead cost a third of the daemon's start-up (the XML parser and logback's configuration model,
 * about 500 classes).
 *
 * <p>{@code -Dlogback.configurationFile=...} still works: then this configurator steps aside.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class StderrLogConfigurator extends ContextAwareBase implements Configurator {
    static final String PATTERN =
            "ts=%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX,UTC} level=%level thread=%thread logger=%logger{0} %msg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(System.getProperty("qmpd.log.root"), Level.WARN));
        root.addAppender(stderr);
        String own = System.getProperty("qmpd.log", System.getenv("QMPD_LOG"));
        context.getLogger("qmpd").setLevel(Level.toLevel(own, Level.WARN));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
