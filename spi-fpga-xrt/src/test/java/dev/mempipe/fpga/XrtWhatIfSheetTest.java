package dev.mempipe.fpga;

import dev.mempipe.core.whatif.DeviceSheet;
import dev.mempipe.core.whatif.DeviceSheets;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Op;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The what-if planner's U55C ({@code DeviceSheets.u55c} in core, which cannot depend on this module) must be
 * this backend as it describes and declares itself: one model, written twice, held equal here.
 */
class XrtWhatIfSheetTest {

    @ParameterizedTest(name = "{0} HBM channels")
    @ValueSource(ints = {8, 16, 32})
    void the_what_if_sheet_should_equal_the_backends_own_description_and_declaration(int channels) {
        XrtModel model = new XrtModel(250e6, channels);
        DeviceSheet sheet = DeviceSheets.u55c(250e6, channels);
        assertEquals(model.describe(), sheet.description());
        Capabilities own = XrtBackend.declared();
        Capabilities what = sheet.capabilities();
        assertEquals(own.ops(), what.ops());
        for (Op op : own.ops()) {
            assertEquals(own.types(op), what.types(op), op + " input types");
            assertEquals(own.outputTypes(op), what.outputTypes(op), op + " output types");
            assertEquals(own.limits(op), what.limits(op), op + " limits");
        }
        assertEquals(own.deviceMemoryBytes(), what.deviceMemoryBytes());
    }
}
