package dev.mempipe.hazelcast;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.segment.TextSegment;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A store entry as the value of the cluster's map: its sequence number (the order it was added in, which breaks score
 * ties), the vector as given (f32), and its segment (text and metadata) when it has one. Byte arrays keep the value
 * opaque to Hazelcast, so members need no class of ours to store, back up or migrate it.
 */
final class EntryCodec {
    private EntryCodec() {
    }

    /** A decoded entry; {@code segment} is null for an entry added without one. */
    record Entry(long sequence, float[] vector, TextSegment segment) {
    }

    static byte[] encode(long sequence, float[] vector, TextSegment segment) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + 4 * vector.length);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeLong(sequence);
            out.writeInt(vector.length);
            out.write(RowCodec.encode(vector));
            out.writeBoolean(segment != null);
            if (segment != null) {
                writeString(out, segment.text());
                writeMetadata(out, segment.metadata());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return bytes.toByteArray();
    }

    static Entry decode(byte[] value) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(value))) {
            long sequence = in.readLong();
            byte[] vectorBytes = new byte[in.readInt() * Float.BYTES];
            in.readFully(vectorBytes);
            TextSegment segment = null;
            if (in.readBoolean()) {
                String text = readString(in);
                segment = TextSegment.from(text, readMetadata(in));
            }
            return new Entry(sequence, RowCodec.decode(vectorBytes), segment);
        } catch (IOException e) {
            throw new UncheckedIOException("a store entry is damaged", e);
        }
    }

    /** The metadata of an entry (empty for one without a segment), without decoding its vector. */
    static Metadata metadata(byte[] value) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(value))) {
            in.readLong();
            in.skipNBytes((long) in.readInt() * Float.BYTES);
            if (!in.readBoolean()) {
                return new Metadata();
            }
            readString(in);
            return readMetadata(in);
        } catch (IOException e) {
            throw new UncheckedIOException("a store entry is damaged", e);
        }
    }

    /** Text may exceed writeUTF's 64 KiB: length-prefixed UTF-8. */
    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] utf8 = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static String readString(DataInputStream in) throws IOException {
        byte[] utf8 = new byte[in.readInt()];
        in.readFully(utf8);
        return new String(utf8, java.nio.charset.StandardCharsets.UTF_8);
    }

    static void writeMetadata(DataOutputStream out, Metadata metadata) throws IOException {
        Map<String, Object> map = metadata.toMap();
        out.writeInt(map.size());
        for (Map.Entry<String, Object> e : map.entrySet()) {
            writeString(out, e.getKey());
            ValueCodec.write(out, e.getValue(), "metadata '" + e.getKey() + "'");
        }
    }

    static Metadata readMetadata(DataInputStream in) throws IOException {
        int size = in.readInt();
        Map<String, Object> map = new LinkedHashMap<>(2 * size);
        for (int i = 0; i < size; i++) {
            String key = readString(in);
            map.put(key, ValueCodec.read(in));
        }
        return Metadata.from(map);
    }
}
