package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * nbdinfo (libnbd) sees what we export: the list with descriptions, size and flags as JSON, and a
 * base:allocation map of a sparse file that tells holes from data.
 */
@Timeout(60)
class NbdinfoOverNbdTest {

    private static final long SIZE = 16 << 20;

    @TempDir
    Path dir;
    private NbdTestBed bed;
    private Path image;

    @BeforeEach
    void setUp() throws IOException {
        Cli.assumeInstalled("nbdinfo");
        bed = NbdTestBed.unix(dir);
        image = bed.sparseFile("disk.raw", SIZE);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.seek(4 << 20);
            f.write(new byte[1 << 20], 0, 1 << 20);   // zeroes written are still data
            f.seek(8 << 20);
            byte[] ones = new byte[1 << 20];
            java.util.Arrays.fill(ones, (byte) 1);
            f.write(ones);
        }
        bed.export("disk0", bed.raw("n0", image), true);
        bed.export("ro", bed.nullCo("z0", 1 << 20), false);
    }

    @AfterEach
    void tearDown() {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void listShowsEveryExportWithItsDescription() {
        String out = Cli.run(30, "nbdinfo", "--list", "nbd+unix://?socket=" + bed.socket).ok().out();
        assertTrue(out.contains("export=\"disk0\"") && out.contains("description: export disk0"), out);
        assertTrue(out.contains("export=\"ro\"") && out.contains("description: export ro"), out);
    }

    @Test
    void jsonReportsSizeAndFlags() {
        String rw = Cli.run(30, "nbdinfo", "--json", bed.uri("disk0")).ok().out();
        assertTrue(rw.contains("\"export-size\": " + SIZE), rw);
        assertTrue(rw.contains("\"is_read_only\": false"), rw);
        assertTrue(rw.contains("\"can_flush\": true") && rw.contains("\"can_fua\": true"), rw);
        assertTrue(rw.contains("\"can_zero\": true") && rw.contains("\"can_trim\": true"), rw);
        assertTrue(rw.contains("\"can_multi_conn\": true") && rw.contains("\"can_cache\": true"), rw);
        assertTrue(rw.contains("\"can_fast_zero\": true") && rw.contains("\"can_df\": true"), rw);
        assertTrue(rw.contains("\"base:allocation\""), rw);
        String ro = Cli.run(30, "nbdinfo", "--json", bed.uri("ro")).ok().out();
        assertTrue(ro.contains("\"export-size\": " + (1 << 20)) && ro.contains("\"is_read_only\": true"), ro);
    }

    @Test
    void mapTellsHolesFromData() {
        String out = Cli.run(30, "nbdinfo", "--map", bed.uri("disk0")).ok().out();
        // Lines read: offset length type description; the file system may round extents.
        Pattern line = Pattern.compile("^\\s*(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(.*)$", Pattern.MULTILINE);
        Matcher m = line.matcher(out);
        long end = 0;
        boolean sawHole = false;
        boolean sawDataAt4M = false;
        boolean sawDataAt8M = false;
        while (m.find()) {
            long off = Long.parseLong(m.group(1));
            long len = Long.parseLong(m.group(2));
            int type = Integer.parseInt(m.group(3));
            assertEquals(end, off, "extents are contiguous: " + out);
            end = off + len;
            boolean data = (type & 1) == 0;
            if (!data && off == 0) {
                sawHole = true;
            }
            if (data && off <= 4 << 20 && end >= 5 << 20) {
                sawDataAt4M = true;
            }
            if (data && off <= 8 << 20 && end >= 9 << 20) {
                sawDataAt8M = true;
                assertEquals(0, type, "non-zero data is neither hole nor zero: " + out);
            }
        }
        assertEquals(SIZE, end, out);
        assertTrue(sawHole && sawDataAt4M && sawDataAt8M, out);
        List<String> lines = out.lines().toList();
        assertTrue(lines.size() >= 4, out);
    }
}
