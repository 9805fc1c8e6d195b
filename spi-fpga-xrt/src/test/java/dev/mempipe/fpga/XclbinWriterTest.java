package dev.mempipe.fpga;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The files generated from the interface table: the metadata-only xclbin's layout (what XRT's noop device reads,
 * checked end to end by {@link XrtRealLibraryTest}) and the Vitis connectivity file. Both are also written to
 * target/csim for the card run (docs/fpga.md).
 */
class XclbinWriterTest {

    @Test
    void the_xclbin_should_have_the_axlf_layout() throws IOException {
        Path out = Files.createDirectories(Path.of(System.getProperty("mempipe.xrt.csim.dir", "target/csim")))
                .resolve("mempipe-noop.xclbin");
        XclbinWriter.write(out);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("xclbin2", new String(b.array(), 0, 7, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(b.capacity(), b.getLong(304), "m_length");
        assertEquals(4, b.getInt(304 + 144), "m_numSections at byte 144 of the 152-byte axlf_header");
        int[] kinds = {6, 8, 7, 2};
        for (int i = 0; i < 4; i++) {
            int at = 456 + 40 * i; // the section headers follow the 456-byte fixed part, 40 bytes each
            assertEquals(kinds[i], b.getInt(at), "section " + i + " kind");
            long offset = b.getLong(at + 24);
            long size = b.getLong(at + 32);
            assertTrue(offset % 8 == 0 && offset + size <= b.capacity(), "section " + i + " at " + offset);
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0} HBM channels")
    @org.junit.jupiter.params.provider.ValueSource(ints = {8, 16, 32})
    void the_connectivity_file_should_place_every_buffer_argument_on_its_bank(int channels) throws IOException {
        String cfg = XclbinWriter.connectivityConfig(channels);
        int buffers = 0;
        for (XrtKernels k : XrtKernels.values()) {
            if (k.isScore() && k.keyChannels() != channels) {
                assertTrue(!cfg.contains("nk=" + k.kernelName + ":"), "only the " + channels + "-channel score build: "
                        + cfg);
                continue;
            }
            assertTrue(cfg.contains("nk=" + k.kernelName + ":1:" + k.kernelName + "_1\n"), cfg);
            for (XrtKernels.Arg a : k.args) {
                if (a.kind() == XrtKernels.Kind.BUFFER) {
                    buffers++;
                    assertTrue(cfg.contains("sp=" + k.kernelName + "_1." + a.name() + ":HBM[" + a.bank() + "]\n"), cfg);
                }
            }
        }
        assertEquals(buffers, cfg.lines().filter(l -> l.startsWith("sp=")).count());
        // one key port per channel, each on its own bank: the channels the cycle bound assumes
        for (int c = 0; c < channels; c++) {
            assertTrue(cfg.contains("sp=score" + channels + "_1.keys" + c + ":HBM[" + c + "]\n"), cfg);
        }
        Files.writeString(Files.createDirectories(Path.of(System.getProperty("mempipe.xrt.csim.dir", "target/csim")))
                .resolve("connectivity-" + channels + "ch.cfg"), cfg);
    }
}
