package dev.mempipe.goldentests.npy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0 read; 1.0 written unless the
 * header needs 2.0): the little-endian dtypes of {@link NpyDtype}, C order, rank 0 to 3. This is the
 * exchange format of the golden cases and of the {@code mempipe op} command, so errors say which file and
 * what is wrong with it.
 *
 * <p>Stateless and thread-safe.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** NumPy pads the whole preamble to a multiple of 64 bytes so that the data is aligned. */
    private static final int ALIGN = 64;
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    public static NpyArray read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /**
     * Reads one array from {@code in} (to its end).
     *
     * @param source names the stream in error messages and becomes the array's name
     * @throws NpyFormatException when the stream is not a supported .npy file
     */
    public static NpyArray read(InputStream in, String source) throws IOException {
        byte[] bytes = in.readAllBytes();
        if (bytes.length < MAGIC.length + 2) {
            throw new NpyFormatException(source, "bad magic: file of " + bytes.length
                    + " bytes is too short to be a .npy file");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                throw new NpyFormatException(source, "bad magic: not a .npy file (expected \\x93NUMPY at the start)");
            }
        }
        int major = bytes[6] & 0xFF;
        int minor = bytes[7] & 0xFF;
        int lengthBytes = switch (major) {
            case 1 -> 2;
            case 2, 3 -> 4;
            default -> throw new NpyFormatException(source, "unsupported format version " + major + "." + minor);
        };
        int headerStart = 8 + lengthBytes;
        if (bytes.length < headerStart) {
            throw new NpyFormatException(source, "truncated header: file ends inside the header length");
        }
        long headerLength = 0;
        for (int i = 0; i < lengthBytes; i++) {
            headerLength |= (long) (bytes[8 + i] & 0xFF) << (8 * i);
        }
        if (headerStart + headerLength > bytes.length) {
            throw new NpyFormatException(source, "truncated header: expected " + headerLength + " header bytes got "
                    + (bytes.length - headerStart));
        }
        String header = new String(bytes, headerStart, (int) headerLength,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        NpyDtype dtype = parseDtype(source, header);
        long[] shape = parseShape(source, header);
        long count = 1;
        for (long dim : shape) {
            count = Math.multiplyExact(count, dim);
        }
        long expected = Math.multiplyExact(count, dtype.itemSize());
        long dataStart = headerStart + headerLength;
        long got = bytes.length - dataStart;
        if (got < expected) {
            throw new NpyFormatException(source, "truncated data: expected " + expected + " bytes got " + got);
        }
        if (got > expected) {
            throw new NpyFormatException(source, "unexpected data after the array: expected " + expected
                    + " bytes got " + got);
        }
        byte[] data = new byte[(int) expected];
        System.arraycopy(bytes, (int) dataStart, data, 0, data.length);
        return new NpyArray(source, dtype, shape, data);
    }

    private static NpyDtype parseDtype(String source, String header) throws NpyFormatException {
        Matcher descr = DESCR.matcher(header);
        if (!descr.find()) {
            throw new NpyFormatException(source, "header has no 'descr': " + header.strip());
        }
        NpyDtype dtype = NpyDtype.ofDescr(descr.group(1));
        if (dtype == null) {
            throw new NpyFormatException(source, "unsupported dtype '" + descr.group(1) + "' (supported: "
                    + "<f4 <f2 <u2 <i1 <i2 <i4 <i8 <u1 |i1 |u1 <f8, little-endian)");
        }
        Matcher fortran = FORTRAN.matcher(header);
        if (!fortran.find()) {
            throw new NpyFormatException(source, "header has no 'fortran_order': " + header.strip());
        }
        if (fortran.group(1).equals("True")) {
            throw new NpyFormatException(source, "fortran_order True is not supported: write the array in C order "
                    + "(numpy.ascontiguousarray)");
        }
        return dtype;
    }

    private static long[] parseShape(String source, String header) throws NpyFormatException {
        Matcher shape = SHAPE.matcher(header);
        if (!shape.find()) {
            throw new NpyFormatException(source, "header has no 'shape': " + header.strip());
        }
        List<Long> dims = new ArrayList<>();
        for (String part : shape.group(1).split(",")) {
            String dim = part.strip();
            if (dim.endsWith("L")) {
                dim = dim.substring(0, dim.length() - 1); // Python 2 long literals
            }
            if (dim.isEmpty()) {
                continue;
            }
            try {
                long value = Long.parseLong(dim);
                if (value < 0) {
                    throw new NumberFormatException();
                }
                dims.add(value);
            } catch (NumberFormatException e) {
                throw new NpyFormatException(source, "bad shape (" + shape.group(1) + ")");
            }
        }
        if (dims.size() > 3) {
            throw new NpyFormatException(source, "rank " + dims.size() + " shape (" + shape.group(1)
                    + ") is not supported (rank 0 to 3 only)");
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    public static void write(Path file, NpyArray array) throws IOException {
        Files.write(file, toBytes(array));
    }

    public static void write(OutputStream out, NpyArray array) throws IOException {
        out.write(toBytes(array));
    }

    /** The complete file contents: version 1.0, or 2.0 when the header does not fit 1.0's 16-bit length. */
    public static byte[] toBytes(NpyArray array) {
        String dict = headerDict(array);
        return toBytes(array, preambleLength(dict, 1) - 10 > 0xFFFF ? 2 : 1);
    }

    /** The file contents with a header of format version {@code major} (1 or 2); for tests of reading 2.0. */
    static byte[] toBytes(NpyArray array, int major) {
        String dict = headerDict(array);
        int lengthBytes = major == 1 ? 2 : 4;
        int total = preambleLength(dict, major);
        int headerLength = total - MAGIC.length - 2 - lengthBytes;
        // the dict, then spaces, then a newline, so that the data starts 64-byte aligned as NumPy does it
        String text = dict + " ".repeat(headerLength - dict.length() - 1) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream(total + array.data().length);
        out.writeBytes(MAGIC);
        out.write(major);
        out.write(0);
        for (int i = 0; i < lengthBytes; i++) {
            out.write((headerLength >>> (8 * i)) & 0xFF);
        }
        out.writeBytes(text.getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(array.data());
        return out.toByteArray();
    }

    private static String headerDict(NpyArray array) {
        long[] shape = array.shape();
        // Python tuple syntax: () for rank 0, (n,) for rank 1, (r, c) for rank 2, (a, b, c) for rank 3
        String shapeText = switch (shape.length) {
            case 0 -> "()";
            case 1 -> "(" + shape[0] + ",)";
            default -> "(" + String.join(", ", Arrays.stream(shape).mapToObj(Long::toString).toList()) + ")";
        };
        return "{'descr': '" + array.dtype().descr() + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
    }

    /** Magic, version, length field, dict and newline, rounded up to a multiple of 64 bytes. */
    private static int preambleLength(String dict, int major) {
        int unpadded = MAGIC.length + 2 + (major == 1 ? 2 : 4) + dict.length() + 1;
        return (unpadded + ALIGN - 1) / ALIGN * ALIGN;
    }
}
