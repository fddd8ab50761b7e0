package qmpd.qmp.command;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import qmpd.config.error.QmpException;
import qmpd.config.schema.OptionalMember;

/** {@code qmp_capabilities}: leaves negotiation mode, optionally enabling {@code oob}. */
public final class QmpCapabilities extends QmpCommand<QmpCapabilities.Args, QmpCommand.Empty> {

    /** QAPI {@code QMPCapability}. */
    public enum Capability {
        @JsonProperty("oob") OOB
    }

    public record Args(@OptionalMember List<Capability> enable) {
    }

    public QmpCapabilities() {
        super("qmp_capabilities", Args.class, Empty.class);
    }

    @Override
    protected Empty execute(Args args, QmpContext ctx) {
        QmpContext.Session session = ctx.session();
        if (session.negotiated()) {
            throw new QmpException.CommandNotFound("Capabilities negotiation is already complete, command ignored");
        }
        Set<String> enabled = new LinkedHashSet<>();
        for (Capability c : args.enable() == null ? List.<Capability>of() : args.enable()) {
            String wire = c == Capability.OOB ? "oob" : c.name();
            if (!session.offeredCapabilities().contains(wire)) {
                throw new QmpException.GenericError("Capability " + wire + " not available");
            }
            enabled.add(wire);
        }
        session.completeNegotiation(enabled);
        return Empty.INSTANCE;
    }
}
