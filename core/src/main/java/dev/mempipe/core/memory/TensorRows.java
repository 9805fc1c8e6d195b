package dev.mempipe.core.memory;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.apache.lucene.util.VectorUtil;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.IntSupplier;

/**
 * {@link EmbeddingMemory}'s rows as {@link HnswVectors}: the published prefix of its buffer, normalized on append.
 * The graph ranks by the plain dot product (the rows are unit length up to their storage's rounding); hits report
 * {@code dot / ||row||} of the decoded row.
 */
final class TensorRows implements HnswVectors {
    private static final VectorSpecies<Float> LANES = FloatVector.SPECIES_PREFERRED;

    private final Tensor vectors; // the memory's whole buffer [capacity, d]
    private final int dimension;
    private final IntSupplier published;

    /** @param published the memory's published length (a volatile read) */
    TensorRows(Tensor vectors, IntSupplier published) {
        this.vectors = vectors;
        this.dimension = vectors.cols();
        this.published = published;
    }

    @Override
    public int rows() {
        return published.getAsInt();
    }

    @Override
    public int dimension() {
        return dimension;
    }

    /** Decodes row {@code row} into {@code into}; already unit length. */
    @Override
    public void readUnit(int row, float[] into) {
        if (vectors.type() == ElementType.F32) {
            MemorySegment.copy(vectors.data(), ValueLayout.JAVA_FLOAT_UNALIGNED,
                    vectors.offset(row, 0), into, 0, dimension);
        } else {
            for (int c = 0; c < dimension; c++) {
                into[c] = vectors.get(row, c);
            }
        }
    }

    /**
     * {@code <query, row>}. F32 rows are read in place (the graph build scores each row thousands of times, so a
     * copy per score would dominate); other types are decoded into {@code scratch} first.
     */
    @Override
    public float graphCosine(float[] unitQuery, int row, float[] scratch) {
        if (vectors.type() != ElementType.F32) {
            readUnit(row, scratch);
            return VectorUtil.dotProduct(unitQuery, scratch);
        }
        MemorySegment data = vectors.data();
        long at = vectors.offset(row, 0);
        int i = 0;
        FloatVector acc = FloatVector.zero(LANES);
        for (int bound = LANES.loopBound(dimension); i < bound; i += LANES.length()) {
            FloatVector x = FloatVector.fromArray(LANES, unitQuery, i);
            FloatVector y = FloatVector.fromMemorySegment(LANES, data, at + (long) i * Float.BYTES,
                    ByteOrder.LITTLE_ENDIAN);
            acc = x.fma(y, acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < dimension; i++) {
            sum += unitQuery[i] * data.get(ValueLayout.JAVA_FLOAT_UNALIGNED, at + (long) i * Float.BYTES);
        }
        return sum;
    }

    /** The exact cosine: the dot product divided by the decoded row's norm (0 for a zero row). */
    @Override
    public float cosine(float[] unitQuery, int row, float[] scratch) {
        readUnit(row, scratch);
        float norm = (float) Math.sqrt(VectorUtil.dotProduct(scratch, scratch));
        float dot = VectorUtil.dotProduct(unitQuery, scratch);
        return norm == 0 ? 0 : dot / norm;
    }
}
