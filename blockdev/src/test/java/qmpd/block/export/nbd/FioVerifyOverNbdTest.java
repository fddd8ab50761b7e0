package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** fio's nbd engine, 32 requests in flight, random mixed I/O with crc32c verification: nothing corrupt. */
@Timeout(90)
class FioVerifyOverNbdTest {

    @TempDir
    Path dir;
    private NbdTestBed bed;

    @AfterEach
    void tearDown() {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void randomReadWriteAtDepth32VerifiesClean() throws IOException {
        Cli.assumeInstalled("fio");
        Cli.Result help = Cli.run(30, "fio", "--enghelp");
        org.junit.jupiter.api.Assumptions.assumeTrue(help.out().contains("nbd"), "this fio has no nbd engine");
        bed = NbdTestBed.unix(dir);
        Path image = bed.sparseFile("disk.raw", 32 << 20);
        bed.export("disk0", bed.raw("n0", image), true);

        Cli.Result r = Cli.run(75, "fio", "--name=verify", "--ioengine=nbd", "--uri=" + bed.uri("disk0"),
                "--rw=randrw", "--bs=4k", "--iodepth=32", "--size=32M", "--runtime=30",
                "--verify=crc32c", "--verify_fatal=1", "--do_verify=1", "--randrepeat=0",
                "--verify_state_save=0", "--output-format=normal").ok();
        assertFalse(r.out().contains("verify:") && r.out().contains("bad"), r.out());
        assertTrue(r.out().contains("err= 0"), r.out() + r.err());
    }
}
