package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** nbdcopy (libnbd, several connections and many requests in flight) copies a whole export both ways. */
@Timeout(60)
class NbdcopyOverNbdTest {

    private static final int SIZE = 32 << 20;

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
    void copyInAndOutKeepsEveryByte() throws IOException {
        Cli.assumeInstalled("nbdcopy");
        bed = NbdTestBed.unix(dir);
        Path image = bed.sparseFile("disk.raw", SIZE);
        bed.export("disk0", bed.raw("n0", image), true);

        byte[] data = new byte[SIZE];
        Random r = new Random(7);
        for (int off = 0; off < SIZE; off += 3 << 20) {   // 1 MiB of noise every 3 MiB, the rest zero
            byte[] chunk = new byte[1 << 20];
            r.nextBytes(chunk);
            System.arraycopy(chunk, 0, data, off, Math.min(chunk.length, SIZE - off));
        }
        Path source = dir.resolve("source.raw");
        Files.write(source, data);

        Cli.run(30, "nbdcopy", "--flush", source.toString(), bed.uri("disk0")).ok();
        assertArrayEquals(data, Files.readAllBytes(image), "copy into the export");

        Path out = dir.resolve("out.raw");
        Cli.run(30, "nbdcopy", bed.uri("disk0"), out.toString()).ok();
        assertArrayEquals(data, Files.readAllBytes(out), "copy out of the export");
    }
}
