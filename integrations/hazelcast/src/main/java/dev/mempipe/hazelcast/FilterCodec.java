package dev.mempipe.hazelcast;

import dev.langchain4j.store.embedding.filter.Filter;
import dev.langchain4j.store.embedding.filter.comparison.ContainsString;
import dev.langchain4j.store.embedding.filter.comparison.IsEqualTo;
import dev.langchain4j.store.embedding.filter.comparison.IsGreaterThan;
import dev.langchain4j.store.embedding.filter.comparison.IsGreaterThanOrEqualTo;
import dev.langchain4j.store.embedding.filter.comparison.IsIn;
import dev.langchain4j.store.embedding.filter.comparison.IsLessThan;
import dev.langchain4j.store.embedding.filter.comparison.IsLessThanOrEqualTo;
import dev.langchain4j.store.embedding.filter.comparison.IsNotEqualTo;
import dev.langchain4j.store.embedding.filter.comparison.IsNotIn;
import dev.langchain4j.store.embedding.filter.logical.And;
import dev.langchain4j.store.embedding.filter.logical.Not;
import dev.langchain4j.store.embedding.filter.logical.Or;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * LangChain4j metadata filters as bytes, so that they run on the members where the entries are (LangChain4j's filter
 * classes are not serializable). Every filter LangChain4j builds is covered: the nine comparisons and {@code And},
 * {@code Or}, {@code Not}; the member rebuilds the same objects, so they test exactly as on the caller. A filter of
 * another class (a lambda, say) cannot be shipped and is refused with its class name.
 */
final class FilterCodec {
    private static final byte EQUAL = 1;
    private static final byte NOT_EQUAL = 2;
    private static final byte GREATER = 3;
    private static final byte GREATER_OR_EQUAL = 4;
    private static final byte LESS = 5;
    private static final byte LESS_OR_EQUAL = 6;
    private static final byte IN = 7;
    private static final byte NOT_IN = 8;
    private static final byte CONTAINS = 9;
    private static final byte AND = 10;
    private static final byte OR = 11;
    private static final byte NOT = 12;

    private FilterCodec() {
    }

    /** {@code filter} as bytes; null for no filter. */
    static byte[] encode(Filter filter) {
        if (filter == null) {
            return null;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            write(out, filter);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static Filter decode(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            return read(in);
        } catch (IOException e) {
            throw new UncheckedIOException("an encoded filter is damaged", e);
        }
    }

    private static void write(DataOutputStream out, Filter filter) throws IOException {
        switch (filter) {
            case IsEqualTo f -> comparison(out, EQUAL, f.key(), f.comparisonValue());
            case IsNotEqualTo f -> comparison(out, NOT_EQUAL, f.key(), f.comparisonValue());
            case IsGreaterThan f -> comparison(out, GREATER, f.key(), f.comparisonValue());
            case IsGreaterThanOrEqualTo f -> comparison(out, GREATER_OR_EQUAL, f.key(), f.comparisonValue());
            case IsLessThan f -> comparison(out, LESS, f.key(), f.comparisonValue());
            case IsLessThanOrEqualTo f -> comparison(out, LESS_OR_EQUAL, f.key(), f.comparisonValue());
            case ContainsString f -> comparison(out, CONTAINS, f.key(), f.comparisonValue());
            case IsIn f -> collection(out, IN, f.key(), f.comparisonValues());
            case IsNotIn f -> collection(out, NOT_IN, f.key(), f.comparisonValues());
            case And f -> {
                out.writeByte(AND);
                write(out, f.left());
                write(out, f.right());
            }
            case Or f -> {
                out.writeByte(OR);
                write(out, f.left());
                write(out, f.right());
            }
            case Not f -> {
                out.writeByte(NOT);
                write(out, f.expression());
            }
            default -> throw new IllegalArgumentException("filter " + filter.getClass().getName() + " cannot run on"
                    + " the cluster's members; build filters from LangChain4j's comparisons (metadataKey(...)) and"
                    + " And, Or, Not");
        }
    }

    private static void comparison(DataOutputStream out, byte tag, String key, Object value) throws IOException {
        out.writeByte(tag);
        out.writeUTF(key);
        ValueCodec.write(out, value, "the operand of the filter on '" + key + "'");
    }

    private static void collection(DataOutputStream out, byte tag, String key, java.util.Collection<?> values)
            throws IOException {
        out.writeByte(tag);
        out.writeUTF(key);
        out.writeInt(values.size());
        for (Object value : values) {
            ValueCodec.write(out, value, "an operand of the filter on '" + key + "'");
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Filter read(DataInputStream in) throws IOException {
        byte tag = in.readByte();
        return switch (tag) {
            case EQUAL -> new IsEqualTo(in.readUTF(), ValueCodec.read(in));
            case NOT_EQUAL -> new IsNotEqualTo(in.readUTF(), ValueCodec.read(in));
            case GREATER -> new IsGreaterThan(in.readUTF(), (Comparable) ValueCodec.read(in));
            case GREATER_OR_EQUAL -> new IsGreaterThanOrEqualTo(in.readUTF(), (Comparable) ValueCodec.read(in));
            case LESS -> new IsLessThan(in.readUTF(), (Comparable) ValueCodec.read(in));
            case LESS_OR_EQUAL -> new IsLessThanOrEqualTo(in.readUTF(), (Comparable) ValueCodec.read(in));
            case CONTAINS -> new ContainsString(in.readUTF(), (String) ValueCodec.read(in));
            case IN -> new IsIn(in.readUTF(), readValues(in));
            case NOT_IN -> new IsNotIn(in.readUTF(), readValues(in));
            case AND -> new And(read(in), read(in));
            case OR -> new Or(read(in), read(in));
            case NOT -> new Not(read(in));
            default -> throw new IllegalStateException("unknown filter tag " + tag + " (written by another version?)");
        };
    }

    private static List<Object> readValues(DataInputStream in) throws IOException {
        int size = in.readInt();
        List<Object> values = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            values.add(ValueCodec.read(in));
        }
        return values;
    }
}
