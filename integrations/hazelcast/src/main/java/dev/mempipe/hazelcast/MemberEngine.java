package dev.mempipe.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.EnergyMeter;

/**
 * The {@link Engine} a member's copies run their ops through: one per member (in the instance's user context), from
 * {@code Backends} like the store's default engine, keeping a bounded number of step records and no energy readings
 * (a member runs many small steps for many callers).
 */
final class MemberEngine {
    private static final String KEY = "dev.mempipe.hazelcast.engine";
    private static final int RECORDS = 1024;

    private MemberEngine() {
    }

    static Engine of(HazelcastInstance hz) {
        return (Engine) hz.getUserContext().computeIfAbsent(KEY, k -> Engine.builder().maxRecords(RECORDS)
                .energyMeter(EnergyMeter.unavailable("not metered on cluster members")).build());
    }
}
