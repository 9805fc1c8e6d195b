package dev.mempipe.spi;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.EnumSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CapabilitiesTest {
    private static final Capabilities FLOAT_ONLY = Capabilities.builder()
            .ops(EnumSet.of(Op.DOT, Op.TOP_K, Op.BM25_SCORE), EnumSet.of(ElementType.F32))
            .limits(Op.TOP_K, Limits.NONE.withMaxK(16))
            .limits(Op.DOT, Limits.NONE.withMaxCols(64).withMaxRows(1000))
            .limits(Op.BM25_SCORE, Limits.NONE.withMaxTermId(65_535).withMaxQueryTerms(3))
            .outputs(Op.DOT, EnumSet.of(ElementType.F32))
            .build();

    @Test
    void a_one_line_declaration_should_declare_every_op_with_its_types() {
        Capabilities caps = Capabilities.builder().ops(EnumSet.of(Op.DOT, Op.COSINE), EnumSet.of(ElementType.F32)).build();
        assertEquals(EnumSet.of(Op.DOT, Op.COSINE), EnumSet.copyOf(caps.ops()));
        assertTrue(caps.supports(Op.COSINE, ElementType.F32));
        assertFalse(caps.supports(Op.COSINE, ElementType.I8));
        assertTrue(caps.writes(Op.DOT, ElementType.BF16), "float ops write every float type unless declared");
        assertEquals(Limits.NONE, caps.limits(Op.DOT));
    }

    @Test
    void topK_beyond_maxK_should_fail_naming_the_limit_before_writing() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor s = Tensor.vector(arena, new float[40]);
            Indices idx = Indices.allocate(arena, 40);
            LimitExceededException e = assertThrows(LimitExceededException.class,
                    () -> OpArgs.topK(FLOAT_ONLY, s, 17, idx, null));
            assertTrue(e.getMessage().contains("maxK = 16") && e.getMessage().contains("k = 17"), e.getMessage());
            assertLimit(e, Op.TOP_K, "maxK", 17, 16);
            OpArgs.topK(FLOAT_ONLY, s, 16, idx, null); // at the limit: accepted
            // bad input for every backend stays a plain IllegalArgumentException: the engine must not rerun it
            IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                    () -> OpArgs.topK(FLOAT_ONLY, s, 0, idx, null));
            assertFalse(zero instanceof LimitExceededException, zero.toString());
        }
    }

    private static void assertLimit(LimitExceededException e, Op op, String limit, long value, long max) {
        assertEquals(op, e.op(), e.getMessage());
        assertEquals(limit, e.limit(), e.getMessage());
        assertEquals(value, e.value(), e.getMessage());
        assertEquals(max, e.max(), e.getMessage());
    }

    @Test
    void dotTopK_beyond_maxK_should_throw_the_limit_type() {
        Capabilities caps = Capabilities.builder()
                .ops(EnumSet.of(Op.DOT_TOP_K), EnumSet.of(ElementType.F32))
                .limits(Op.DOT_TOP_K, Limits.NONE.withMaxK(4))
                .build();
        try (Arena arena = Arena.ofConfined()) {
            Tensor q = Tensor.allocate(arena, ElementType.F32, 1, 8);
            Tensor m = Tensor.allocate(arena, ElementType.F32, 20, 8);
            Indices idx = Indices.allocate(arena, 20);
            LimitExceededException e = assertThrows(LimitExceededException.class,
                    () -> OpArgs.dotTopK(caps, q, m, null, null, 5, idx, null));
            assertLimit(e, Op.DOT_TOP_K, "maxK", 5, 4);
        }
    }

    @Test
    void inputs_wider_or_longer_than_declared_should_fail_naming_the_limit() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor q = Tensor.allocate(arena, ElementType.F32, 1, 65);
            Tensor m = Tensor.allocate(arena, ElementType.F32, 10, 65);
            Tensor s = Tensor.allocate(arena, ElementType.F32, 1, 10);
            LimitExceededException wide = assertThrows(LimitExceededException.class, () -> OpArgs.dot(FLOAT_ONLY, q, m, s));
            assertTrue(wide.getMessage().contains("maxCols = 64"), wide.getMessage());
            assertLimit(wide, Op.DOT, "maxCols", 65, 64);
            Tensor q2 = Tensor.allocate(arena, ElementType.F32, 1, 8);
            Tensor many = Tensor.allocate(arena, ElementType.F32, 1001, 8);
            Tensor s2 = Tensor.allocate(arena, ElementType.F32, 1, 1001);
            LimitExceededException longer = assertThrows(LimitExceededException.class,
                    () -> OpArgs.dot(FLOAT_ONLY, q2, many, s2));
            assertTrue(longer.getMessage().contains("maxRows = 1000") && longer.getMessage().contains("1001"),
                    longer.getMessage());
            assertLimit(longer, Op.DOT, "maxRows", 1001, 1000);
        }
    }

    @Test
    void an_undeclared_output_type_should_be_rejected() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor q = Tensor.allocate(arena, ElementType.F32, 1, 8);
            Tensor m = Tensor.allocate(arena, ElementType.F32, 3, 8);
            Tensor s = Tensor.allocate(arena, ElementType.BF16, 1, 3);
            UnsupportedElementTypeException e = assertThrows(UnsupportedElementTypeException.class,
                    () -> OpArgs.dot(FLOAT_ONLY, q, m, s));
            assertTrue(e.getMessage().contains("BF16") && e.getMessage().contains("[F32]"), e.getMessage());
        }
    }

    @Test
    void a_term_id_beyond_maxTermId_should_fail_naming_the_limit() {
        try (Arena arena = Arena.ofConfined()) {
            Bm25Index index = new Bm25Index(new int[] {1}, new int[] {1}, new int[] {0, 1}, new int[] {0}, new int[] {1});
            Tensor s = Tensor.allocate(arena, ElementType.F32, 1, 1);
            LimitExceededException e = assertThrows(LimitExceededException.class, () -> OpArgs.bm25Score(FLOAT_ONLY,
                    Indices.of(arena, 3, 65_536), index, Bm25Params.DEFAULT, s));
            assertTrue(e.getMessage().contains("65536") && e.getMessage().contains("maxTermId = 65535"), e.getMessage());
            assertLimit(e, Op.BM25_SCORE, "maxTermId", 65_536, 65_535);
        }
    }

    @Test
    void a_query_of_more_distinct_terms_than_maxQueryTerms_should_fail_naming_the_limit() {
        try (Arena arena = Arena.ofConfined()) {
            Bm25Index index = new Bm25Index(new int[] {1}, new int[] {1}, new int[] {0, 1}, new int[] {0}, new int[] {1});
            Tensor s = Tensor.allocate(arena, ElementType.F32, 1, 1);
            // a repeated term counts once: 3 distinct of 5 is within the limit
            OpArgs.bm25Score(FLOAT_ONLY, Indices.of(arena, 0, 1, 1, 2, 0), index, Bm25Params.DEFAULT, s);
            LimitExceededException e = assertThrows(LimitExceededException.class, () -> OpArgs.bm25Score(FLOAT_ONLY,
                    Indices.of(arena, 0, 1, 2, 3), index, Bm25Params.DEFAULT, s));
            assertTrue(e.getMessage().contains("4 distinct") && e.getMessage().contains("maxQueryTerms = 3"),
                    e.getMessage());
            assertLimit(e, Op.BM25_SCORE, "maxQueryTerms", 4, 3);
            assertEquals("maxTermId=65535 maxQueryTerms=3", FLOAT_ONLY.limits(Op.BM25_SCORE).toString());
        }
    }

    @Test
    void a_partial_backend_should_reject_undeclared_ops_with_its_name_and_fail_after_close() {
        PartialBackend dotOnly = new PartialBackend("dot-only", FLOAT_ONLY) {
            @Override
            public void dot(Tensor q, Tensor m, Tensor s) {
                checkOpen();
                OpArgs.dot(capabilities(), q, m, s);
            }
        };
        try (Arena arena = Arena.ofConfined()) {
            Tensor q = Tensor.allocate(arena, ElementType.F32, 1, 4);
            Tensor m = Tensor.allocate(arena, ElementType.F32, 2, 4);
            Tensor s = Tensor.allocate(arena, ElementType.F32, 1, 2);
            dotOnly.relevancy().dot(q, m, s);
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> dotOnly.relevancy().softmax(s, 1f, s));
            assertTrue(e.getMessage().contains("dot-only") && e.getMessage().contains("softmax"), e.getMessage());
            dotOnly.close();
            assertThrows(IllegalStateException.class, () -> dotOnly.relevancy().dot(q, m, s));
            assertThrows(IllegalStateException.class, () -> dotOnly.relevancy().softmax(s, 1f, s));
        }
    }

    @Test
    void the_host_pin_should_be_the_identity() {
        Backend host = new PartialBackend("host", FLOAT_ONLY) { };
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(arena, ElementType.F32, 4, 4);
            PinnedTensor pin = host.pin(t);
            assertTrue(pin.tensor() == t, "the CPU's pin returns the tensor itself");
            assertThrows(IllegalArgumentException.class, () -> pin.refresh(5));
            pin.refresh(4);
            pin.close();
            assertThrows(IllegalStateException.class, () -> pin.refresh(0));
        }
    }
}
