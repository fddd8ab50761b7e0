package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** qemu-img sees a file+raw export in an IOThread as the image it is: info, convert both ways, compare. */
@Timeout(60)
class QemuImgOverNbdTest {

    private static final long SIZE = 8 << 20;

    @TempDir
    Path dir;
    private NbdTestBed bed;
    private Path image;

    @BeforeEach
    void setUp() throws IOException {
        Cli.assumeInstalled("qemu-img");
        bed = NbdTestBed.unix(dir);
        image = bed.sparseFile("disk.raw", SIZE);
        bed.export("disk0", bed.raw("n0", image), true);
    }

    @AfterEach
    void tearDown() {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void infoReportsTheVirtualSize() {
        String out = Cli.run(30, "qemu-img", "info", "--output=json", bed.uri("disk0")).ok().out();
        assertTrue(out.contains("\"virtual-size\": " + SIZE), out);
        assertTrue(out.contains("\"format\": \"raw\""), out);
    }

    @Test
    void convertOutAndBackInKeepsEveryByte() throws IOException {
        Path source = dir.resolve("source.raw");
        byte[] data = new byte[(int) SIZE];
        Random r = new Random(1);
        for (int off = 0; off < SIZE; off += 1 << 20) {   // data and holes, alternating per MiB
            if ((off >> 20) % 2 == 0) {
                byte[] chunk = new byte[1 << 20];
                r.nextBytes(chunk);
                System.arraycopy(chunk, 0, data, off, chunk.length);
            }
        }
        Files.write(source, data);

        Cli.run(30, "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", source.toString(), bed.uri("disk0")).ok();
        assertArrayEquals(data, Files.readAllBytes(image), "convert into the export");

        Path back = dir.resolve("back.raw");
        Cli.run(30, "qemu-img", "convert", "-f", "raw", "-O", "raw", bed.uri("disk0"), back.toString()).ok();
        assertArrayEquals(data, Files.readAllBytes(back), "convert out of the export");

        Cli.run(30, "qemu-img", "compare", "-f", "raw", "-F", "raw", bed.uri("disk0"), source.toString()).ok();
    }

    @Test
    void compareNoticesADifferingByte() throws IOException {
        Path other = bed.sparseFile("other.raw", SIZE);
        try (RandomAccessFile f = new RandomAccessFile(other.toFile(), "rw")) {
            f.seek(5_000_000);
            f.write(1);
        }
        Cli.run(30, "qemu-img", "compare", "-f", "raw", "-F", "raw", bed.uri("disk0"), image.toString()).ok();
        Cli.Result diff = Cli.run(30, "qemu-img", "compare", "-f", "raw", "-F", "raw", bed.uri("disk0"), other.toString());
        assertTrue(diff.exit() == 1 && diff.out().contains("Content mismatch at offset 49996"), diff.toString());
    }
}
