package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libnbd's handshakes against ours: simple replies only, structured replies with base:allocation,
 * and the oldest fixed-newstyle path (NBD_OPT_EXPORT_NAME). Each does I/O and checks it.
 */
@Timeout(60)
class NbdshHandshakeTest {

    @TempDir
    Path dir;
    private NbdTestBed bed;

    @BeforeEach
    void setUp() throws IOException {
        Cli.assumeInstalled("nbdsh");
        bed = NbdTestBed.unix(dir);
        bed.export("disk0", bed.raw("n0", bed.sparseFile("disk.raw", 4 << 20)), true);
    }

    @AfterEach
    void tearDown() {
        if (bed != null) {
            bed.close();
        }
    }

    private String nbdsh(String setup, String checks) {
        String script = setup + "\n"
                + "h.connect_uri('" + bed.uri("disk0") + "')\n"
                + "assert h.get_size() == 4 << 20\n"
                + "h.pwrite(b'\\xab' * 8192, 4096, nbd.CMD_FLAG_FUA)\n"
                + "assert h.pread(8192, 4096) == b'\\xab' * 8192\n"
                + "h.zero(4096, 8192)\n"
                + "assert h.pread(4096, 8192) == b'\\0' * 4096\n"
                + "h.trim(4096, 1 << 20)\n"
                + "h.cache(65536, 0)\n"
                + "h.flush()\n"
                + checks + "\n"
                + "h.shutdown()\n"
                + "print('done')\n";
        Cli.Result r = Cli.run(30, "nbdsh", "-c", script).ok();
        assertTrue(r.out().contains("done"), r.out() + r.err());
        return r.out();
    }

    @Test
    void simpleRepliesWhenStructuredAreNotRequested() {
        nbdsh("h.set_request_structured_replies(False)",
                "assert not h.get_structured_replies_negotiated()\n"
                + "assert h.get_protocol() == 'newstyle-fixed'");
    }

    @Test
    void structuredRepliesWithBaseAllocation() {
        nbdsh("h.add_meta_context('base:allocation')",
                "assert h.get_structured_replies_negotiated()\n"
                + "assert h.can_meta_context('base:allocation')\n"
                + "h.pwrite(b'\\x01' * 65536, 1 << 20)\n"
                + "seen = []\n"
                + "def cb(ctx, off, entries, err):\n"
                + "    seen.append((ctx, off, list(entries)))\n"
                + "h.block_status(2 << 20, 0, cb)\n"
                + "assert seen[0][0] == 'base:allocation', seen\n"
                + "e = seen[0][2]\n"
                + "assert sum(e[0::2]) >= 1 << 20, seen\n"
                + "assert e[1] & 1 == 1, seen\n"
                + "print(seen)");
    }

    @Test
    void exportNameOptionWithoutFixedNewstyleFlags() {
        nbdsh("h.set_handshake_flags(0)",
                "assert h.get_protocol() == 'newstyle'\n"
                + "assert not h.get_structured_replies_negotiated()");
    }
}
