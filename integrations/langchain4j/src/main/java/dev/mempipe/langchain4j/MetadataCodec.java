package dev.mempipe.langchain4j;

import dev.langchain4j.data.document.Metadata;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Metadata values in the store file, each with a one-byte type tag, so that a value read back has the Java type it
 * was put with (an Integer stays an Integer, not a Long or a String). Keys are written in sorted order, so that the
 * same store always gives the same bytes.
 */
final class MetadataCodec {
    static final byte STRING = 1;
    static final byte UUID_TAG = 2;
    static final byte INTEGER = 3;
    static final byte LONG = 4;
    static final byte FLOAT = 5;
    static final byte DOUBLE = 6;

    private MetadataCodec() {
    }

    static void write(Metadata metadata, SectionWriter out) throws IOException {
        Map<String, Object> map = metadata.toMap();
        List<String> keys = new ArrayList<>(map.keySet());
        keys.sort(null);
        out.putInt(keys.size());
        for (String key : keys) {
            out.putString(key);
            switch (map.get(key)) {
                case String s -> {
                    out.putByte(STRING);
                    out.putString(s);
                }
                case UUID u -> {
                    out.putByte(UUID_TAG);
                    out.putLong(u.getMostSignificantBits());
                    out.putLong(u.getLeastSignificantBits());
                }
                case Integer i -> {
                    out.putByte(INTEGER);
                    out.putInt(i);
                }
                case Long l -> {
                    out.putByte(LONG);
                    out.putLong(l);
                }
                case Float f -> {
                    out.putByte(FLOAT);
                    out.putInt(Float.floatToRawIntBits(f));
                }
                case Double d -> {
                    out.putByte(DOUBLE);
                    out.putLong(Double.doubleToRawLongBits(d));
                }
                case Object other -> throw new IllegalStateException("metadata key '" + key + "' holds a "
                        + other.getClass().getName() + ", which LangChain4j's Metadata does not allow");
            }
        }
    }

    static Metadata read(SectionReader in) throws IOException {
        int entries = in.getCount("metadata entries", 1 + 1 + 4);
        Map<String, Object> map = new LinkedHashMap<>(entries * 2);
        for (int e = 0; e < entries; e++) {
            String key = in.getString();
            byte tag = in.getByte();
            Object value = switch (tag) {
                case STRING -> in.getString();
                case UUID_TAG -> new UUID(in.getLong(), in.getLong());
                case INTEGER -> in.getInt();
                case LONG -> in.getLong();
                case FLOAT -> Float.intBitsToFloat(in.getInt());
                case DOUBLE -> Double.longBitsToDouble(in.getLong());
                default -> throw in.corrupt("metadata key '" + key + "' has unknown type tag " + tag);
            };
            if (map.put(key, value) != null) {
                throw in.corrupt("metadata key '" + key + "' appears twice");
            }
        }
        try {
            return new Metadata(map);
        } catch (IllegalArgumentException e) {
            throw in.corrupt("metadata LangChain4j refuses: " + e.getMessage()); // a blank key
        }
    }
}
