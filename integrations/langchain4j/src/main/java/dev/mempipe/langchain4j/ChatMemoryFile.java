package dev.mempipe.langchain4j;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ChatMessageDeserializer;
import dev.langchain4j.data.message.ChatMessageSerializer;
import dev.langchain4j.data.message.SystemMessage;
import dev.mempipe.spi.io.AtomicFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The chat-memory file, version 1: the persisted form of a {@link CompressedChatMemory} or a
 * {@link MemAgentChatMemory}. All numbers little-endian; a message is LangChain4j's own JSON form of it
 * ({@link ChatMessageSerializer}), stored as a string (u32 byte length, UTF-8), so every message type and content
 * LangChain4j knows survives.
 *
 * <pre>
 * header (32 bytes)
 *   0  magic      8 bytes  "MPCHATM" 0x1A
 *   8  version    u32      1
 *  12  kind       u8       1 compressed (CompressedChatMemory), 2 MemAgent (MemAgentChatMemory); then 3 zero bytes
 *  16  dimension  u32      compressed: d of the archive's summaries; MemAgent: 0
 *  20  sections   u32      3
 *  24  flags      u32      0
 *  28  crc32      u32      of bytes 0..27
 * then three sections, each: tag u32, payload length u64, payload, crc32 u32 of the payload
 *   compressed:
 *     "SYS "  u8 0 (no system message) or 1, then the system message
 *     "WIND"  u32 n, then n messages: the recent window, oldest first
 *     "ARCH"  u32 m, then m rows of d f32 (the unit summary embeddings, oldest first), then the m archived messages
 *   MemAgent:
 *     "SYS "  as above
 *     "MEMO"  the memory text (u32 length, UTF-8)
 *     "WAIT"  u32 n, then n messages: those added since the last rewrite, oldest first
 * the file ends right after the last section.
 * </pre>
 *
 * <p>Saving goes through {@link AtomicFile} (a crash leaves the old file or the new one, whole; permissions and
 * links kept). Loading checks every checksum, count and message before anything is returned: a file that is
 * damaged, truncated, forged or of the other kind fails with a {@link ChatMemoryFormatException} naming it.
 */
final class ChatMemoryFile {
    static final byte[] MAGIC = {'M', 'P', 'C', 'H', 'A', 'T', 'M', 0x1A};
    static final int VERSION = 1;
    static final int HEADER_BYTES = 32;
    static final byte COMPRESSED = 1;
    static final byte MEM_AGENT = 2;
    static final int SYS = tag("SYS ");
    static final int WIND = tag("WIND");
    static final int ARCH = tag("ARCH");
    static final int MEMO = tag("MEMO");
    static final int WAIT = tag("WAIT");
    /** A unit summary's norm may differ from 1 by float rounding; more is damage. */
    static final double NORM_TOLERANCE = 1e-3;
    private static final int MAX_ERROR_TEXT = 200;

    private ChatMemoryFile() {
    }

    /** A {@link CompressedChatMemory}'s state: {@code summaries} is {@code (archived.size(), dimension)} row-major. */
    record Compressed(SystemMessage system, List<ChatMessage> window, int dimension, float[] summaries,
                      List<ChatMessage> archived) {
    }

    /** A {@link MemAgentChatMemory}'s state. */
    record MemAgent(SystemMessage system, String memory, List<ChatMessage> waiting) {
    }

    // ---- save ----

    static void save(Path file, Compressed c, SectionWriter.WriteBudget budget) throws IOException {
        AtomicFile.write(file, out -> {
            writeHeader(out, COMPRESSED, c.dimension(), budget);
            writeSystem(out, c.system(), budget);
            writeMessages(out, WIND, c.window(), budget);
            SectionWriter arch = new SectionWriter(out, budget, ARCH);
            arch.putInt(c.archived().size());
            for (float x : c.summaries()) {
                arch.putInt(Float.floatToRawIntBits(x));
            }
            for (ChatMessage m : c.archived()) {
                arch.putString(ChatMessageSerializer.messageToJson(m));
            }
            arch.finish();
        }, AtomicFile.StepListener.NONE);
    }

    static void save(Path file, MemAgent m, SectionWriter.WriteBudget budget) throws IOException {
        AtomicFile.write(file, out -> {
            writeHeader(out, MEM_AGENT, 0, budget);
            writeSystem(out, m.system(), budget);
            SectionWriter memo = new SectionWriter(out, budget, MEMO);
            memo.putString(m.memory());
            memo.finish();
            writeMessages(out, WAIT, m.waiting(), budget);
        }, AtomicFile.StepListener.NONE);
    }

    private static void writeHeader(FileChannel out, byte kind, int dimension, SectionWriter.WriteBudget budget)
            throws IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.put(MAGIC).putInt(VERSION).put(kind).put(new byte[3]).putInt(dimension).putInt(3).putInt(0);
        CRC32 crc = new CRC32();
        crc.update(header.array(), 0, header.position());
        header.putInt((int) crc.getValue()).flip();
        budget.spend(HEADER_BYTES);
        while (header.hasRemaining()) {
            out.write(header);
        }
    }

    private static void writeSystem(FileChannel out, SystemMessage system, SectionWriter.WriteBudget budget)
            throws IOException {
        SectionWriter sys = new SectionWriter(out, budget, SYS);
        sys.putByte((byte) (system == null ? 0 : 1));
        if (system != null) {
            sys.putString(ChatMessageSerializer.messageToJson(system));
        }
        sys.finish();
    }

    private static void writeMessages(FileChannel out, int tag, List<ChatMessage> messages,
                                      SectionWriter.WriteBudget budget) throws IOException {
        SectionWriter section = new SectionWriter(out, budget, tag);
        section.putInt(messages.size());
        for (ChatMessage m : messages) {
            section.putString(ChatMessageSerializer.messageToJson(m));
        }
        section.finish();
    }

    // ---- load ----

    /**
     * Reads and checks a compressed chat memory's file; nothing is returned unless every check passed.
     *
     * @param dimension the dimension of the loading memory's embedding model: summaries of another are refused
     */
    static Compressed loadCompressed(Path file, int dimension) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            int fileDimension = readHeader(in, file, COMPRESSED);
            if (fileDimension != dimension) {
                throw new ChatMemoryFormatException(file, "its summaries are " + Integer.toUnsignedString(
                        fileDimension) + "-d, but this memory's embedding model makes " + dimension + "-d ones");
            }
            SystemMessage system = readSystem(in, file);
            List<ChatMessage> window = readMessages(in, file, WIND, "WIND", "window message");
            SectionReader arch = section(in, file, ARCH, "ARCH");
            int m = arch.getCount("archived message", 4 * dimension + 4);
            if ((long) m * dimension > Integer.MAX_VALUE - 8) {
                throw arch.corrupt(m + " summaries of " + dimension + " elements exceed a Java array");
            }
            float[] summaries = new float[m * dimension];
            for (int i = 0; i < summaries.length; i++) {
                summaries[i] = Float.intBitsToFloat(arch.getInt());
            }
            for (int r = 0; r < m; r++) {
                String problem = unitProblem(summaries, r * dimension, dimension);
                if (problem != null) {
                    throw arch.corrupt("summary " + r + " " + problem);
                }
            }
            List<ChatMessage> archived = new ArrayList<>(m);
            for (int r = 0; r < m; r++) {
                ChatMessage message = decode(arch, arch.getString(), "archived message " + r);
                if (!ChatMemoryText.recallable(message)) {
                    throw arch.corrupt("archived message " + r + " is a " + message.type()
                            + " that the archive never holds (only user messages and AI answers with text)");
                }
                archived.add(message);
            }
            arch.finish();
            checkEnd(in, file);
            return new Compressed(system, window, dimension, summaries, archived);
        }
    }

    /** Reads and checks a MemAgent chat memory's file; nothing is returned unless every check passed. */
    static MemAgent loadMemAgent(Path file) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            int dimension = readHeader(in, file, MEM_AGENT);
            if (dimension != 0) {
                throw new ChatMemoryFormatException(file, "dimension " + Integer.toUnsignedString(dimension)
                        + " in a MemAgent memory's file (0 expected)");
            }
            SystemMessage system = readSystem(in, file);
            SectionReader memo = section(in, file, MEMO, "MEMO");
            String memory = memo.getString();
            memo.finish();
            if (!memory.equals(memory.strip())) {
                // a rewrite stores its answer stripped: other whitespace at the ends was not written by mempipe
                throw memo.corrupt("the memory text starts or ends with whitespace");
            }
            List<ChatMessage> waiting = readMessages(in, file, WAIT, "WAIT", "waiting message");
            checkEnd(in, file);
            return new MemAgent(system, memory, waiting);
        }
    }

    /** Checks the header; returns its dimension. */
    private static int readHeader(FileChannel in, Path file, byte expectedKind) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        while (header.hasRemaining()) {
            if (in.read(header) < 0) {
                throw new ChatMemoryFormatException(file, "the file has " + in.size() + " bytes, fewer than the "
                        + HEADER_BYTES + "-byte header (truncated, or not a mempipe chat-memory file)");
            }
        }
        header.flip();
        byte[] magic = new byte[MAGIC.length];
        header.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new ChatMemoryFormatException(file, "not a mempipe chat-memory file (no MPCHATM magic)");
        }
        CRC32 crc = new CRC32();
        crc.update(header.array(), 0, HEADER_BYTES - 4);
        if (header.getInt(HEADER_BYTES - 4) != (int) crc.getValue()) {
            throw new ChatMemoryFormatException(file, "the header is damaged (CRC32 mismatch)");
        }
        int version = header.getInt();
        if (version != VERSION) {
            throw new ChatMemoryFormatException(file, "format version " + Integer.toUnsignedString(version)
                    + "; this mempipe reads version " + VERSION);
        }
        byte kind = header.get();
        if (kind != expectedKind) {
            throw new ChatMemoryFormatException(file, "it holds " + kindName(kind) + ", not " + kindName(
                    expectedKind));
        }
        header.position(header.position() + 3);
        int dimension = header.getInt();
        int sections = header.getInt();
        if (dimension < 0 || dimension > StoreFile.MAX_DIMENSION) {
            throw new ChatMemoryFormatException(file, "dimension " + Integer.toUnsignedString(dimension)
                    + " is out of range");
        }
        if (sections != 3) {
            throw new ChatMemoryFormatException(file, Integer.toUnsignedString(sections)
                    + " sections; version 1 has 3");
        }
        return dimension;
    }

    private static SystemMessage readSystem(FileChannel in, Path file) throws IOException {
        SectionReader sys = section(in, file, SYS, "SYS");
        byte present = sys.getByte();
        SystemMessage system = null;
        if (present == 1) {
            ChatMessage message = decode(sys, sys.getString(), "the system message");
            if (!(message instanceof SystemMessage s)) {
                throw sys.corrupt("the system message is a " + message.type());
            }
            system = s;
        } else if (present != 0) {
            throw sys.corrupt("system message flag " + present + " (0 or 1 expected)");
        }
        sys.finish();
        return system;
    }

    /** A list of messages, none of them a system message (a memory keeps its system message apart). */
    private static List<ChatMessage> readMessages(FileChannel in, Path file, int tag, String name, String what)
            throws IOException {
        SectionReader section = section(in, file, tag, name);
        int n = section.getCount(what, 4);
        List<ChatMessage> messages = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ChatMessage message = decode(section, section.getString(), what + " " + i);
            if (message instanceof SystemMessage) {
                throw section.corrupt(what + " " + i + " is a system message (kept apart, in section SYS)");
            }
            messages.add(message);
        }
        section.finish();
        return messages;
    }

    private static ChatMessage decode(SectionReader section, String json, String what) throws IOException {
        ChatMessage message;
        try {
            message = ChatMessageDeserializer.messageFromJson(json);
        } catch (RuntimeException e) {
            // LangChain4j's JSON codec throws its parser's and its constructors' unchecked exceptions: each is a
            // message this file cannot hold, so it is refused as damage, with the codec's reason
            throw section.corrupt(what + " does not decode: " + firstLine(e));
        }
        if (message == null) {
            throw section.corrupt(what + " is null");
        }
        return message;
    }

    /** Why row {@code r} of {@code rows} is not a summary the archive writes (finite, unit or zero); null when it is. */
    private static String unitProblem(float[] rows, int from, int d) {
        double sumSquares = 0;
        for (int i = from; i < from + d; i++) {
            if (!Float.isFinite(rows[i])) {
                return "holds " + rows[i] + " at element " + (i - from);
            }
            sumSquares += (double) rows[i] * rows[i];
        }
        double norm = Math.sqrt(sumSquares);
        if (norm != 0 && Math.abs(norm - 1) > NORM_TOLERANCE) {
            return "has norm " + norm + " (a summary is a unit vector)";
        }
        return null;
    }

    private static SectionReader section(FileChannel in, Path file, int tag, String name) throws IOException {
        return new SectionReader(in, file, tag, name, ChatMemoryFormatException::new);
    }

    private static void checkEnd(FileChannel in, Path file) throws IOException {
        if (in.position() != in.size()) {
            throw new ChatMemoryFormatException(file, (in.size() - in.position())
                    + " bytes follow the last section (damaged or not written by mempipe)");
        }
    }

    private static String kindName(byte kind) {
        return switch (kind) {
            case COMPRESSED -> "a CompressedChatMemory";
            case MEM_AGENT -> "a MemAgentChatMemory";
            default -> "an unknown kind of memory (code " + kind + ")";
        };
    }

    private static String firstLine(RuntimeException e) {
        String text = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        text = text.lines().findFirst().orElse(text);
        return text.length() <= MAX_ERROR_TEXT ? text : text.substring(0, MAX_ERROR_TEXT) + "...";
    }

    private static int tag(String ascii) {
        return ByteBuffer.wrap(ascii.getBytes(StandardCharsets.US_ASCII)).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }
}
