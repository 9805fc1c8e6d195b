package dev.mempipe.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.EmbeddingRows;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * The store file, version 1. All numbers little-endian.
 *
 * <pre>
 * header (40 bytes)
 *   0  magic        8 bytes  "MPSTORE" 0x1A
 *   8  version      u32      1
 *  12  dimension    u32      d (0 only for an empty store whose dimension is not fixed yet)
 *  16  element type u8       1 F32, 2 F16, 3 BF16, 4 I8, 5 I16; then 3 zero bytes
 *  20  count        u64      entries n
 *  28  sections     u32      3
 *  32  flags        u32      0
 *  36  crc32        u32      of bytes 0..35
 * then three sections, each: tag u32, payload length u64, payload, crc32 u32 of the payload
 *   "VECS"  n rows of d elements of the element type, row-major, as stored; for I8/I16 then n f32 row scales
 *   "IDS "  n times: u32 byte length, UTF-8 id
 *   "SEGS"  n times: u8 0 (no segment) or 1, then text (u32 length, UTF-8), u32 metadata entries, each:
 *           key (u32 length, UTF-8), u8 type tag (1 String, 2 UUID, 3 Integer, 4 Long, 5 Float, 6 Double), value
 *           (String: u32 length + UTF-8; UUID: i64 most, i64 least significant bits; Integer i32; Long i64;
 *           Float: IEEE bits u32; Double: IEEE bits u64)
 * the file ends right after the last section.
 * </pre>
 *
 * <p>Saving goes through {@link AtomicFile}: a temporary file beside the target, forced to disk, renamed over the
 * target atomically, then the folder forced: a crash at any point leaves either the old file or the new one, whole. Loading checks every
 * checksum and bound before the store exists, so a damaged file is refused and nothing of it is used. The HNSW graph
 * is not saved: an approximate store rebuilds it when it loads the file.
 */
final class StoreFile {
    static final byte[] MAGIC = {'M', 'P', 'S', 'T', 'O', 'R', 'E', 0x1A};
    static final int VERSION = 1;
    static final int HEADER_BYTES = 40;
    static final int VECS = tag("VECS");
    static final int IDS = tag("IDS ");
    static final int SEGS = tag("SEGS");
    /** A dimension beyond this is a damaged header, not a model (the largest embedding models use 4096-8192). */
    static final int MAX_DIMENSION = 1 << 20;

    private StoreFile() {
    }

    /** What a file holds, checked; the caller owns {@code rows} (and closes it if it does not keep it). */
    record Contents(int dimension, ElementType type, EmbeddingRows rows, List<String> ids, List<TextSegment> segments) {
    }

    // ---- save ----

    /**
     * Writes the live entries to {@code file} with the shared {@link AtomicFile} protocol (temporary file, force,
     * atomic rename, folder force; permissions, owner and symbolic links kept). The caller holds the store's read
     * lock, so the rows do not change meanwhile.
     */
    static void save(Path file, int dimension, ElementType type, EmbeddingRows rows, Entries entries,
                     SectionWriter.WriteBudget budget) throws IOException {
        save(file, dimension, type, rows, entries, budget, AtomicFile.StepListener.NONE);
    }

    /** {@link #save}, telling {@code steps} each step of the write: for crash tests. */
    static void save(Path file, int dimension, ElementType type, EmbeddingRows rows, Entries entries,
                     SectionWriter.WriteBudget budget, AtomicFile.StepListener steps) throws IOException {
        AtomicFile.write(file, out -> writeContents(out, dimension, type, rows, entries, budget), steps);
    }

    private static void writeContents(FileChannel out, int dimension, ElementType type, EmbeddingRows rows,
                                      Entries entries, SectionWriter.WriteBudget budget) throws IOException {
        int n = entries.liveCount();
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.put(MAGIC).putInt(VERSION).putInt(dimension).put(typeCode(type)).put(new byte[3])
                .putLong(n).putInt(3).putInt(0);
        CRC32 crc = new CRC32();
        crc.update(header.array(), 0, header.position());
        header.putInt((int) crc.getValue()).flip();
        budget.spend(HEADER_BYTES);
        while (header.hasRemaining()) {
            out.write(header);
        }

        SectionWriter vecs = new SectionWriter(out, budget, VECS);
        forEachLiveRun(entries, (from, to) -> vecs.putSegment(rows.vectors(from, to).data()));
        if (type.isQuantized()) {
            forEachLiveRun(entries, (from, to) -> vecs.putSegment(rows.vectors(from, to).scales()));
        }
        vecs.finish();

        SectionWriter ids = new SectionWriter(out, budget, IDS);
        for (int row = 0; row < entries.rows(); row++) {
            if (entries.isLive(row)) {
                ids.putString(entries.id(row));
            }
        }
        ids.finish();

        SectionWriter segs = new SectionWriter(out, budget, SEGS);
        for (int row = 0; row < entries.rows(); row++) {
            if (entries.isLive(row)) {
                TextSegment segment = entries.segment(row);
                segs.putByte((byte) (segment == null ? 0 : 1));
                if (segment != null) {
                    segs.putString(segment.text());
                    MetadataCodec.write(segment.metadata(), segs);
                }
            }
        }
        segs.finish();
    }

    @FunctionalInterface
    private interface RunBody {
        void run(int from, int to) throws IOException;
    }

    /** Calls {@code body} on each maximal run {@code [from, to)} of live rows, in order. */
    private static void forEachLiveRun(Entries entries, RunBody body) throws IOException {
        int row = 0;
        while (row < entries.rows()) {
            if (!entries.isLive(row)) {
                row++;
                continue;
            }
            int from = row;
            while (row < entries.rows() && entries.isLive(row)) {
                row++;
            }
            body.run(from, row);
        }
    }

    // ---- load ----

    /** Reads and checks {@code file}; nothing is returned unless every check passed. */
    static Contents load(Path file, Engine engine) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            while (header.hasRemaining()) {
                if (in.read(header) < 0) {
                    throw new StoreFormatException(file, "the file has " + in.size() + " bytes, fewer than the "
                            + HEADER_BYTES + "-byte header (truncated, or not a mempipe store)");
                }
            }
            header.flip();
            byte[] magic = new byte[MAGIC.length];
            header.get(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new StoreFormatException(file, "not a mempipe store (no MPSTORE magic)");
            }
            CRC32 crc = new CRC32();
            crc.update(header.array(), 0, HEADER_BYTES - 4);
            int storedCrc = header.getInt(HEADER_BYTES - 4);
            if (storedCrc != (int) crc.getValue()) {
                throw new StoreFormatException(file, "the header is damaged (CRC32 mismatch)");
            }
            int version = header.getInt();
            if (version != VERSION) {
                throw new StoreFormatException(file, "format version " + version + "; this mempipe reads version "
                        + VERSION);
            }
            int dimension = header.getInt();
            ElementType type = typeOf(file, header.get());
            header.position(header.position() + 3);
            long count = header.getLong();
            int sections = header.getInt();
            if (dimension < 0 || dimension > MAX_DIMENSION || (dimension == 0 && count != 0)) {
                throw new StoreFormatException(file, "dimension " + Integer.toUnsignedString(dimension)
                        + " is impossible for " + count + " entries");
            }
            if (count < 0 || count > EmbeddingRows.MAX_ROWS) {
                throw new StoreFormatException(file, "entry count " + count + " is out of range");
            }
            if (sections != 3) {
                throw new StoreFormatException(file, sections + " sections; version 1 has 3");
            }
            int n = (int) count;
            EmbeddingRows rows = EmbeddingRows.growable(engine, type, Math.max(dimension, 1));
            try {
                readVectors(in, file, rows, n, dimension, type);
                List<String> ids = readIds(in, file, n);
                List<TextSegment> segments = readSegments(in, file, n);
                if (in.position() != in.size()) {
                    throw new StoreFormatException(file, (in.size() - in.position())
                            + " bytes follow the last section (damaged or not written by mempipe)");
                }
                return new Contents(dimension, type, rows, ids, segments);
            } catch (IOException | RuntimeException | Error e) {
                rows.close();
                throw e;
            }
        }
    }

    private static void readVectors(FileChannel in, Path file, EmbeddingRows rows, int n, int dimension,
                                    ElementType type) throws IOException {
        SectionReader vecs = new SectionReader(in, file, VECS, "VECS");
        long expected = (long) n * dimension * type.byteSize() + (type.isQuantized() ? 4L * n : 0);
        if (vecs.length() != expected) {
            throw vecs.corrupt("holds " + vecs.length() + " bytes but " + n + " vectors of " + dimension + " "
                    + type + " need " + expected);
        }
        if (n > 0) {
            Tensor target = rows.beginRawAppend(n);
            vecs.getSegment(target.data().asSlice(0, (long) n * dimension * type.byteSize()));
            if (type.isQuantized()) {
                vecs.getSegment(target.scales().asSlice(0, 4L * n));
            }
        }
        vecs.finish();
        if (n > 0) {
            // a file whose checksums match may still hold what no add accepts (written by another tool, or damaged
            // before its checksum was computed): NaN would fail every later search (found by StoreFileFuzzTest)
            float[] decoded = new float[dimension];
            for (int r = 0; r < n; r++) {
                rows.read(r, decoded);
                String problem = InputChecks.problem(decoded);
                if (problem != null) {
                    throw vecs.corrupt("vector " + r + " " + problem);
                }
            }
            rows.finishRawAppend(n); // only now: the inverse norms are computed from checked bytes
        }
    }

    private static List<String> readIds(FileChannel in, Path file, int n) throws IOException {
        SectionReader section = new SectionReader(in, file, IDS, "IDS");
        List<String> ids = new ArrayList<>(n);
        Set<String> seen = new HashSet<>(n * 2);
        for (int i = 0; i < n; i++) {
            String id = section.getString();
            if (id.isBlank() || !seen.add(id)) {
                throw section.corrupt("id " + i + " '" + id + "' is " + (id.isBlank() ? "blank" : "repeated"));
            }
            ids.add(id);
        }
        section.finish();
        return ids;
    }

    private static List<TextSegment> readSegments(FileChannel in, Path file, int n) throws IOException {
        SectionReader section = new SectionReader(in, file, SEGS, "SEGS");
        List<TextSegment> segments = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte present = section.getByte();
            if (present == 0) {
                segments.add(null);
            } else if (present == 1) {
                String text = section.getString();
                if (text.isBlank()) {
                    throw section.corrupt("entry " + i + " has a blank segment text");
                }
                try {
                    segments.add(TextSegment.from(text, MetadataCodec.read(section)));
                } catch (IllegalArgumentException e) {
                    // LangChain4j's own checks are stricter than String.isBlank (it trims control characters too):
                    // a text of one U+0002 passed ours and failed its (found by StoreFileFuzzTest)
                    throw section.corrupt("entry " + i + " is not a valid segment: " + e.getMessage());
                }
            } else {
                throw section.corrupt("entry " + i + " has segment flag " + present + " (0 or 1 expected)");
            }
        }
        section.finish();
        return segments;
    }

    static byte typeCode(ElementType type) {
        return switch (type) {
            case F32 -> 1;
            case F16 -> 2;
            case BF16 -> 3;
            case I8 -> 4;
            case I16 -> 5;
        };
    }

    private static ElementType typeOf(Path file, byte code) throws StoreFormatException {
        return switch (code) {
            case 1 -> ElementType.F32;
            case 2 -> ElementType.F16;
            case 3 -> ElementType.BF16;
            case 4 -> ElementType.I8;
            case 5 -> ElementType.I16;
            default -> throw new StoreFormatException(file, "unknown element type code " + code);
        };
    }

    private static int tag(String ascii) {
        return ByteBuffer.wrap(ascii.getBytes(StandardCharsets.US_ASCII)).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }
}
