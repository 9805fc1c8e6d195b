package dev.mempipe.fpga;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Writes a metadata-only xclbin (XRT's {@code axlf} container, {@code xrt/xclbin.h}) for the kernels of
 * {@link XrtKernels}: MEM_TOPOLOGY (the HBM banks the interface table uses), IP_LAYOUT (one compute unit per
 * kernel), CONNECTIVITY (each buffer argument to its bank) and EMBEDDED_METADATA (the kernels' arguments as XRT
 * reads them). It holds no bitstream: XRT's noop emulation ({@code XCL_EMULATION_MODE=noop}) loads it, opens the
 * kernels, places buffers and takes arguments, and runs complete without computing anything; a card would
 * refuse it. Stateless.
 */
final class XclbinWriter {
    private static final int EMBEDDED_METADATA = 2, MEM_TOPOLOGY = 6, CONNECTIVITY = 7, IP_LAYOUT = 8;
    private static final int MEM_HBM = 6, IP_KERNEL = 1;
    // 16 MiB per bank: the noop device backs banks with host memory; a card's pseudo-channels hold 512 MiB
    private static final long HBM_BANK_KB = 16 * 1024;
    private static final long CU_BASE = 0x1800000, CU_RANGE = 0x10000;
    private static final int HEADER_BYTES = 496 - 40;        // sizeof(axlf) without its one inline section header

    private XclbinWriter() {
    }

    /** Writes the xclbin to {@code path}. */
    static void write(Path path) throws IOException {
        List<Integer> banks = new ArrayList<>(new TreeSet<>(allBanks()));
        List<byte[]> sections = List.of(memTopology(banks), ipLayout(), connectivity(banks),
                metadata().getBytes(StandardCharsets.UTF_8));
        int[] kinds = {MEM_TOPOLOGY, IP_LAYOUT, CONNECTIVITY, EMBEDDED_METADATA};
        String[] names = {"mem_topology", "ip_layout", "connectivity", "metadata"};
        long offset = align(HEADER_BYTES + 40L * sections.size());
        long[] offsets = new long[sections.size()];
        for (int i = 0; i < sections.size(); i++) {
            offsets[i] = offset;
            offset = align(offset + sections.get(i).length);
        }
        ByteBuffer b = ByteBuffer.allocate((int) offset).order(ByteOrder.LITTLE_ENDIAN);
        b.put("xclbin2\0".getBytes(StandardCharsets.US_ASCII));
        b.putInt(-1);                                   // m_signature_length: unsigned
        for (int i = 0; i < 28; i++) {
            b.put((byte) 0xff);                         // reserved
        }
        b.position(b.position() + 256);                 // m_keyBlock
        b.putLong(0x6d656d7069706531L);                 // m_uniqueId
        // axlf_header
        b.putLong(offset);                              // m_length
        b.putLong(0);                                   // m_timeStamp (0: reproducible)
        b.putLong(0);                                   // m_featureRomTimeStamp
        b.putShort((short) 0).put((byte) 2).put((byte) 13); // version 2.13.0
        b.putShort((short) 0);                          // m_mode: XCLBIN_FLAT
        b.putShort((short) 0);                          // m_actionMask
        b.position(b.position() + 16);                  // rom
        byte[] vbnv = "xilinx_u55c_gen3x16_xdma_3_202210_1".getBytes(StandardCharsets.US_ASCII);
        b.put(vbnv).position(b.position() + 64 - vbnv.length);
        for (int i = 0; i < 16; i++) {
            b.put((byte) (0x30 + i));                   // uuid
        }
        b.position(b.position() + 16);                  // m_debug_bin
        b.putInt(sections.size());                      // m_numSections
        b.putInt(0);                                    // padding: sizeof(axlf_header) is 152
        for (int i = 0; i < sections.size(); i++) {
            b.putInt(kinds[i]);
            byte[] name = names[i].getBytes(StandardCharsets.US_ASCII);
            b.put(name).position(b.position() + 16 - name.length);
            b.putInt(0);                                // padding: the offset is 8-byte aligned
            b.putLong(offsets[i]);
            b.putLong(sections.get(i).length);
        }
        for (int i = 0; i < sections.size(); i++) {
            b.position((int) offsets[i]);
            b.put(sections.get(i));
        }
        Files.write(path, b.array());
    }

    private static List<Integer> allBanks() {
        List<Integer> banks = new ArrayList<>();
        for (XrtKernels k : XrtKernels.values()) {
            for (XrtKernels.Arg a : k.args) {
                if (a.kind() == XrtKernels.Kind.BUFFER) {
                    banks.add(a.bank());
                }
            }
        }
        return banks;
    }

    private static byte[] memTopology(List<Integer> banks) {
        int max = banks.get(banks.size() - 1);
        ByteBuffer b = ByteBuffer.allocate(8 + 40 * (max + 1)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(max + 1).putInt(0);                    // m_count, padding to the 8-byte aligned array
        for (int bank = 0; bank <= max; bank++) {
            b.put((byte) MEM_HBM).put((byte) (banks.contains(bank) ? 1 : 0)).position(b.position() + 6);
            b.putLong(HBM_BANK_KB);
            b.putLong(bank * HBM_BANK_KB * 1024);
            byte[] tag = ("HBM[" + bank + "]").getBytes(StandardCharsets.US_ASCII);
            b.put(tag).position(b.position() + 16 - tag.length);
        }
        return b.array();
    }

    private static byte[] ipLayout() {
        XrtKernels[] kernels = XrtKernels.values();
        ByteBuffer b = ByteBuffer.allocate(8 + 80 * kernels.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(kernels.length).putInt(0);
        for (int i = 0; i < kernels.length; i++) {
            b.putInt(IP_KERNEL);
            b.putInt(0);                                // properties: AP_CTRL_HS, no interrupt
            b.putLong(CU_BASE + i * CU_RANGE);          // sorted by base address
            byte[] name = (kernels[i].kernelName + ":" + kernels[i].kernelName + "_1").getBytes(StandardCharsets.US_ASCII);
            b.put(name).position(b.position() + 64 - name.length);
        }
        return b.array();
    }

    private static byte[] connectivity(List<Integer> banks) {
        List<int[]> connections = new ArrayList<>();
        XrtKernels[] kernels = XrtKernels.values();
        for (int ip = 0; ip < kernels.length; ip++) {
            for (int a = 0; a < kernels[ip].args.size(); a++) {
                XrtKernels.Arg arg = kernels[ip].args.get(a);
                if (arg.kind() == XrtKernels.Kind.BUFFER) {
                    connections.add(new int[] {a, ip, arg.bank()});
                }
            }
        }
        ByteBuffer b = ByteBuffer.allocate(4 + 12 * connections.size()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(connections.size());
        for (int[] c : connections) {
            b.putInt(c[0]).putInt(c[1]).putInt(c[2]);
        }
        return b.array();
    }

    /**
     * The Vitis linker's connectivity file ({@code v++ -l --config}) for the design whose score kernel streams
     * keys from {@code channels} HBM channels: one compute unit per kernel of that design and each buffer argument
     * on the HBM bank the interface table gives (the score build's keysC on bank C).
     */
    static String connectivityConfig(int channels) {
        List<XrtKernels> kernels = XrtKernels.opened(channels);
        StringBuilder c = new StringBuilder("# generated from XrtKernels (src/main/hls/mempipe_interface.h), score"
                + " kernel over " + channels + " HBM channels\n[connectivity]\n");
        for (XrtKernels k : kernels) {
            c.append("nk=").append(k.kernelName).append(":1:").append(k.kernelName).append("_1\n");
        }
        for (XrtKernels k : kernels) {
            for (XrtKernels.Arg a : k.args) {
                if (a.kind() == XrtKernels.Kind.BUFFER) {
                    c.append("sp=").append(k.kernelName).append("_1.").append(a.name()).append(":HBM[")
                            .append(a.bank()).append("]\n");
                }
            }
        }
        return c.toString();
    }

    /** The EMBEDDED_METADATA XML: each kernel's control port, memory ports, arguments and instance. */
    static String metadata() {
        StringBuilder x = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<project name=\"mempipe\">\n"
                + " <platform vendor=\"xilinx\" boardid=\"u55c\" name=\"gen3x16_xdma_3\" featureRomTime=\"0\">\n"
                + "  <version major=\"202210\" minor=\"1\"/>\n  <description/>\n"
                + "  <device name=\"fpga0\" fpgaDevice=\"virtexuplushbm:xcu55c:fsvh2892:-2L:e\" addrWidth=\"0\">\n"
                + "   <core name=\"OCL_REGION_0\" target=\"bitstream\" type=\"clc_region\" clockFreq=\"300MHz\""
                + " numComputeUnits=\"" + XrtKernels.values().length + "\">\n");
        XrtKernels[] kernels = XrtKernels.values();
        for (int ip = 0; ip < kernels.length; ip++) {
            XrtKernels k = kernels[ip];
            x.append("    <kernel name=\"").append(k.kernelName).append("\" language=\"c\" vlnv=\"mempipe:hls:")
                    .append(k.kernelName).append(":1.0\" preferredWorkGroupSizeMultiple=\"0\" workGroupSize=\"1\"")
                    .append(" debug=\"false\" interrupt=\"false\" hwControlProtocol=\"ap_ctrl_hs\">\n")
                    .append("     <module name=\"").append(k.kernelName).append("\"/>\n")
                    .append("     <port name=\"S_AXI_CONTROL\" mode=\"slave\" range=\"0x1000\" dataWidth=\"32\"")
                    .append(" portType=\"addressable\" base=\"0x0\"/>\n");
            for (int a = 0; a < k.args.size(); a++) {
                if (k.args.get(a).kind() == XrtKernels.Kind.BUFFER) {
                    x.append("     <port name=\"M_AXI_").append(k.args.get(a).name().toUpperCase(java.util.Locale.ROOT))
                            .append("\" mode=\"master\" range=\"0xFFFFFFFFFFFFFFFF\" dataWidth=\"512\"")
                            .append(" portType=\"addressable\" base=\"0x0\"/>\n");
                }
            }
            for (int a = 0; a < k.args.size(); a++) {
                XrtKernels.Arg arg = k.args.get(a);
                boolean buffer = arg.kind() == XrtKernels.Kind.BUFFER;
                int size = arg.kind() == XrtKernels.Kind.INT ? 4 : 8;
                String type = switch (arg.kind()) {
                    case BUFFER -> "void*";
                    case INT -> "int";
                    case LONG -> "long long";
                    case DOUBLE -> "double";
                };
                x.append("     <arg name=\"").append(arg.name()).append("\" addressQualifier=\"")
                        .append(buffer ? 1 : 0).append("\" id=\"").append(a).append("\" port=\"")
                        .append(buffer ? "M_AXI_" + arg.name().toUpperCase(java.util.Locale.ROOT) : "S_AXI_CONTROL")
                        .append("\" size=\"0x").append(Integer.toHexString(size)).append("\" offset=\"0x")
                        .append(Integer.toHexString(0x10 + 0x10 * a)).append("\" hostOffset=\"0x0\" hostSize=\"0x")
                        .append(Integer.toHexString(size)).append("\" type=\"").append(type).append("\"/>\n");
            }
            x.append("     <compileWorkGroupSize x=\"1\" y=\"1\" z=\"1\"/>\n")
                    .append("     <maxWorkGroupSize x=\"1\" y=\"1\" z=\"1\"/>\n")
                    .append("     <instance name=\"").append(k.kernelName).append("_1\">\n")
                    .append("      <addrRemap base=\"0x").append(Long.toHexString(CU_BASE + ip * CU_RANGE))
                    .append("\" range=\"0x").append(Long.toHexString(CU_RANGE)).append("\" port=\"S_AXI_CONTROL\"/>\n")
                    .append("     </instance>\n    </kernel>\n");
        }
        return x.append("   </core>\n  </device>\n </platform>\n</project>\n").toString();
    }

    private static long align(long offset) {
        return (offset + 7) & ~7L;
    }
}
