package dev.mempipe.langchain4j;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Writes one section of a store file: {@code tag u32, length u64, payload, crc32 u32}, little-endian. The payload is
 * streamed through a small buffer (a store of any size needs 64 KiB of heap to save), its CRC32 computed on the way;
 * {@link #finish} writes the checksum and then patches the length, which is known only at the end.
 */
final class SectionWriter {
    private static final int BUFFER_BYTES = 1 << 16;

    private final FileChannel channel;
    private final WriteBudget budget;
    private final long lengthAt;
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32 crc = new CRC32();
    private long length;

    /** Starts a section at the channel's position. */
    SectionWriter(FileChannel channel, WriteBudget budget, int tag) throws IOException {
        this.channel = channel;
        this.budget = budget;
        ByteBuffer head = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(tag).putLong(0);
        lengthAt = channel.position() + 4;
        writeFully(head.flip());
    }

    void putByte(byte b) throws IOException {
        room(1).put(b);
    }

    void putInt(int v) throws IOException {
        room(4).putInt(v);
    }

    void putLong(long v) throws IOException {
        room(8).putLong(v);
    }

    /** A string as {@code u32 byte length} followed by its UTF-8 bytes. */
    void putString(String s) throws IOException {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        putInt(utf8.length);
        for (int at = 0; at < utf8.length; ) {
            int chunk = Math.min(utf8.length - at, BUFFER_BYTES);
            room(chunk).put(utf8, at, chunk);
            at += chunk;
        }
    }

    /** Off-heap bytes, written straight from the segment (no copy through the heap). */
    void putSegment(MemorySegment bytes) throws IOException {
        flush();
        ByteBuffer direct = bytes.asByteBuffer();
        crc.update(direct.duplicate());
        length += direct.remaining();
        writeFully(direct);
    }

    /** Writes the checksum and patches the length; the channel is left after the section. */
    void finish() throws IOException {
        flush();
        ByteBuffer tail = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
        writeFully(tail.flip());
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(length).flip();
        long at = lengthAt;
        while (len.hasRemaining()) {
            at += channel.write(len, at);
        }
    }

    private ByteBuffer room(int bytes) throws IOException {
        if (buffer.remaining() < bytes) {
            flush();
        }
        return buffer;
    }

    private void flush() throws IOException {
        buffer.flip();
        crc.update(buffer.duplicate());
        length += buffer.remaining();
        writeFully(buffer);
        buffer.clear();
    }

    private void writeFully(ByteBuffer bytes) throws IOException {
        budget.spend(bytes.remaining());
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    /**
     * Bytes a save may write before it fails: unlimited in use; tests give a small budget to stop a save midway,
     * as a full disk or a crash would, and check that the previous file survives.
     */
    static final class WriteBudget {
        static final WriteBudget UNLIMITED = new WriteBudget(Long.MAX_VALUE);

        private long left;

        WriteBudget(long bytes) {
            this.left = bytes;
        }

        void spend(long bytes) throws IOException {
            if (bytes > left) {
                left = 0;
                throw new IOException("write failed: the save's byte budget ran out (simulated failure)");
            }
            left -= bytes;
        }
    }
}
