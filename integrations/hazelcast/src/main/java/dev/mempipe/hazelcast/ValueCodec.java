package dev.mempipe.hazelcast;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.UUID;

/**
 * Metadata values and filter operands on the wire: the types LangChain4j's {@code Metadata} holds (String, UUID,
 * Integer, Long, Float, Double), each behind a one-byte tag, so that a member rebuilds exactly the object the caller
 * had (a filter compares {@code Integer 1} and {@code Long 1} differently from equal objects).
 */
final class ValueCodec {
    private static final byte STRING = 1;
    private static final byte UUID_TAG = 2;
    private static final byte INTEGER = 3;
    private static final byte LONG = 4;
    private static final byte FLOAT = 5;
    private static final byte DOUBLE = 6;

    private ValueCodec() {
    }

    /** @throws IllegalArgumentException naming {@code what} and the value's class when it is none of the six types */
    static void write(DataOutput out, Object value, String what) throws IOException {
        switch (value) {
            case String s -> {
                out.writeByte(STRING);
                out.writeUTF(s);
            }
            case UUID u -> {
                out.writeByte(UUID_TAG);
                out.writeLong(u.getMostSignificantBits());
                out.writeLong(u.getLeastSignificantBits());
            }
            case Integer i -> {
                out.writeByte(INTEGER);
                out.writeInt(i);
            }
            case Long l -> {
                out.writeByte(LONG);
                out.writeLong(l);
            }
            case Float f -> {
                out.writeByte(FLOAT);
                out.writeFloat(f);
            }
            case Double d -> {
                out.writeByte(DOUBLE);
                out.writeDouble(d);
            }
            case null -> throw new IllegalArgumentException(what + " is null");
            default -> throw new IllegalArgumentException(what + " is a " + value.getClass().getName()
                    + "; metadata values and filter operands must be String, UUID, Integer, Long, Float or Double");
        }
    }

    static Object read(DataInput in) throws IOException {
        byte tag = in.readByte();
        return switch (tag) {
            case STRING -> in.readUTF();
            case UUID_TAG -> new UUID(in.readLong(), in.readLong());
            case INTEGER -> in.readInt();
            case LONG -> in.readLong();
            case FLOAT -> in.readFloat();
            case DOUBLE -> in.readDouble();
            default -> throw new IllegalStateException("unknown value tag " + tag + " (written by another version?)");
        };
    }
}
