package dev.mempipe.spi;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DimTest {
    @Test
    void should_evaluate_the_shapes_spec_md_writes() {
        Map<String, Long> sizes = Map.of("L", 10L, "P", 4L, "k", 7L, "n", 3L, "Hkv", 2L, "d", 8L, "m", 5L);
        assertEquals(3, Dim.of("ceil(L/P)").eval(sizes)); // 10 rows in pages of 4: the last page is partial
        assertEquals(2, Dim.of("L/P").eval(sizes));
        assertEquals(3, Dim.of("min(k,n)").eval(sizes));
        assertEquals(7, Dim.of("max(k, n)").eval(sizes));
        assertEquals(16, Dim.of("Hkv*d").eval(sizes));
        assertEquals(15, Dim.of("m*min(k,n)").eval(sizes));
        assertEquals(11, Dim.of("L+1").eval(sizes));
        assertEquals(1, Dim.of("1").eval(sizes));
        assertEquals(List.of("m", "k", "n"), Dim.of("m*min(k,n)").symbols());
    }

    @Test
    void should_solve_a_symbol_plus_a_number_from_a_size() {
        assertEquals(Map.entry("N", 4L), Dim.of("N+1").solve(5));
        assertEquals(Map.entry("n", 9L), Dim.of("n").solve(9));
        assertNull(Dim.of("ceil(L/P)").solve(3), "a division does not determine its operands");
        assertEquals("d", Dim.of("d").symbol());
        assertNull(Dim.of("Hkv*d").symbol());
        assertTrue(Dim.of("1").isLiteral(1));
        assertFalse(Dim.of("n").computable(Map.of("d", 1L)));
    }

    @Test
    void should_reject_text_it_cannot_read_naming_it() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Dim.of("ceil(L)"));
        assertTrue(e.getMessage().contains("ceil(L)") && e.getMessage().contains("division"), e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Dim.of("n+")).getMessage().contains("'n+'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Dim.of("sqrt(n)")).getMessage()
                .contains("unknown function sqrt"));
        assertTrue(assertThrows(IllegalStateException.class, () -> Dim.of("n*d").eval(Map.of("n", 2L)))
                .getMessage().contains("'d'"));
    }

    @Test
    void every_op_should_describe_its_arguments_and_cost_every_output_it_names() {
        for (Op op : Op.values()) {
            OpDescriptor desc = op.descriptor();
            assertEquals(op.contractName(), desc.name());
            assertFalse(desc.outputs().isEmpty(), () -> op + " has no outputs");
            assertTrue(desc.signature().contains(" -> "), desc::signature);
            for (OpDescriptor.Arg a : desc.args()) {
                if (a.rowsOf() != null) {
                    assertTrue(desc.arg(a.rowsOf()) != null, () -> op + ": " + a.name() + " numbers rows of "
                            + a.rowsOf() + ", which is no argument");
                }
            }
        }
        assertEquals("q[d], K[n,d], rowIds[k] -> s[k]", Op.DOT_ROWS.descriptor().signature());
        WorkCount dotRows = Op.DOT_ROWS.descriptor().sizes().size("k", 32).size("d", 128).type("q", ElementType.F32)
                .type("K", ElementType.I8).type("s", ElementType.F32).cost();
        // q, the 32 chosen I8 rows with their f32 scales, and 32 ids; 32 F32 scores; 2*k*d FLOPs
        assertEquals(new WorkCount(512 + 32 * 128 + 32 * 4 + 32 * 4, 32 * 4, 2 * 32 * 128), dotRows);
        assertThrows(IllegalArgumentException.class, () -> Op.GROUP_MAX.descriptor().sizes().size("g", 0));
    }
}
