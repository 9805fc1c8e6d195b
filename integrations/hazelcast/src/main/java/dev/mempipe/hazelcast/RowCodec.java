package dev.mempipe.hazelcast;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Vectors as map values: {@code d} little-endian f32, the tensors' byte order, so a member copies them as they are. */
final class RowCodec {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RowCodec() {
    }

    static byte[] encode(float[] vector) {
        byte[] bytes = new byte[vector.length * Float.BYTES];
        MemorySegment.copy(vector, 0, MemorySegment.ofArray(bytes), F32, 0, vector.length);
        return bytes;
    }

    static float[] decode(byte[] bytes) {
        float[] vector = new float[bytes.length / Float.BYTES];
        MemorySegment.copy(MemorySegment.ofArray(bytes), F32, 0, vector, 0, vector.length);
        return vector;
    }
}
