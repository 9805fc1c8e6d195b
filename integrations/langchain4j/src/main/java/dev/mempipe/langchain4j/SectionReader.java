package dev.mempipe.langchain4j;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32;

/**
 * Reads one section written by {@link SectionWriter}, checking as it goes that no read passes the section's end and
 * that the section fits the file, so that a truncated or damaged file fails with a {@link StoreFormatException}
 * naming the section (or the exception its {@link Refusal} makes), never with a huge allocation or a read of the next section. {@link #finish} checks that the
 * payload was consumed exactly and that its CRC32 matches.
 */
final class SectionReader {
    private static final int BUFFER_BYTES = 1 << 16;

    /** Makes the exception of the file's format (a store file, a chat-memory file) from a problem's text. */
    @FunctionalInterface
    interface Refusal {
        IOException refuse(Path file, String problem);
    }

    private final FileChannel channel;
    private final Path file;
    private final Refusal refusal;
    private final String name;
    private final long length;
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32 crc = new CRC32();
    private long unread; // payload bytes not yet pulled from the channel

    /** A section of a store file: problems are {@link StoreFormatException}s. */
    SectionReader(FileChannel channel, Path file, int expectedTag, String name) throws IOException {
        this(channel, file, expectedTag, name, StoreFormatException::new);
    }

    /** Reads the section head at the channel's position and checks its tag and that it fits the file. */
    SectionReader(FileChannel channel, Path file, int expectedTag, String name, Refusal refusal) throws IOException {
        this.channel = channel;
        this.file = file;
        this.refusal = refusal;
        this.name = name;
        ByteBuffer head = readExactly(12, "the head of section " + name);
        int tag = head.getInt();
        if (tag != expectedTag) {
            throw refusal.refuse(file, "expected section " + name + " at byte " + (channel.position() - 12)
                    + " but found tag 0x" + Integer.toHexString(tag));
        }
        length = head.getLong();
        long left = channel.size() - channel.position();
        if (length < 0 || length > left - 4) {
            throw refusal.refuse(file, "section " + name + " claims " + length + " bytes but only "
                    + Math.max(0, left - 4) + " remain before its checksum (truncated or damaged file)");
        }
        unread = length;
        buffer.limit(0);
    }

    long length() {
        return length;
    }

    byte getByte() throws IOException {
        return need(1).get();
    }

    int getInt() throws IOException {
        return need(4).getInt();
    }

    long getLong() throws IOException {
        return need(8).getLong();
    }

    /**
     * A count (of list entries) that cannot exceed what the rest of the section holds when each entry takes at
     * least {@code minEntryBytes}: a damaged count fails here, not as an out-of-memory error.
     */
    int getCount(String what, int minEntryBytes) throws IOException {
        int count = getInt();
        if (count < 0 || (long) count * minEntryBytes > remaining()) {
            throw corrupt(what + " count " + Integer.toUnsignedString(count) + " does not fit the "
                    + remaining() + " bytes left in the section");
        }
        return count;
    }

    String getString() throws IOException {
        int bytes = getInt();
        if (bytes < 0 || bytes > remaining()) {
            throw corrupt("a string of " + Integer.toUnsignedString(bytes) + " bytes does not fit the "
                    + remaining() + " bytes left in the section");
        }
        byte[] utf8 = new byte[bytes];
        for (int at = 0; at < bytes; ) {
            int chunk = Math.min(bytes - at, BUFFER_BYTES);
            need(chunk).get(utf8, at, chunk);
            at += chunk;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(utf8)).toString();
        } catch (CharacterCodingException e) {
            throw corrupt("a string is not valid UTF-8");
        }
    }

    /** Reads {@code target.byteSize()} payload bytes straight into off-heap memory. */
    void getSegment(MemorySegment target) throws IOException {
        if (target.byteSize() > remaining()) {
            throw corrupt(target.byteSize() + " bytes requested but " + remaining() + " remain");
        }
        long fromBuffer = Math.min(buffer.remaining(), target.byteSize());
        for (long i = 0; i < fromBuffer; i++) {
            target.set(ValueLayout.JAVA_BYTE, i, buffer.get());
        }
        ByteBuffer direct = target.asSlice(fromBuffer).asByteBuffer();
        ByteBuffer view = direct.duplicate();
        while (direct.hasRemaining()) {
            if (channel.read(direct) < 0) {
                throw corrupt("the file ends inside the section");
            }
        }
        crc.update(view);
        unread -= view.capacity();
    }

    /** Checks that the payload was consumed exactly and that its checksum matches. */
    void finish() throws IOException {
        if (remaining() != 0) {
            throw corrupt(remaining() + " payload bytes were left unread");
        }
        ByteBuffer tail = readExactly(4, "the checksum of section " + name);
        int stored = tail.getInt();
        int computed = (int) crc.getValue();
        if (stored != computed) {
            throw refusal.refuse(file, "section " + name + " is damaged: CRC32 0x"
                    + Integer.toHexString(computed) + " does not match the stored 0x" + Integer.toHexString(stored));
        }
    }

    IOException corrupt(String problem) {
        return refusal.refuse(file, "section " + name + ": " + problem);
    }

    /** Payload bytes not yet consumed. */
    private long remaining() {
        return unread + buffer.remaining();
    }

    private ByteBuffer need(int bytes) throws IOException {
        if (buffer.remaining() >= bytes) {
            return buffer;
        }
        if (bytes > remaining()) {
            throw corrupt("a value of " + bytes + " bytes runs past the section's end");
        }
        buffer.compact();
        int want = (int) Math.min(buffer.remaining(), unread);
        ByteBuffer fill = buffer.slice(buffer.position(), want);
        while (fill.hasRemaining()) {
            if (channel.read(fill) < 0) {
                throw corrupt("the file ends inside the section");
            }
        }
        crc.update(fill.flip());
        unread -= want;
        buffer.position(buffer.position() + want).flip();
        return buffer;
    }

    private ByteBuffer readExactly(int bytes, String what) throws IOException {
        ByteBuffer out = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        while (out.hasRemaining()) {
            if (channel.read(out) < 0) {
                throw refusal.refuse(file, "the file ends inside " + what + " (truncated)");
            }
        }
        return out.flip();
    }
}
