package dev.mempipe.hazelcast;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.Partition;
import com.hazelcast.partition.PartitionService;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/** Partition facts every member and client can compute for itself: ownership and a routing key per partition. */
final class Partitions {
    private static final String KEYS = "dev.mempipe.hazelcast.partitionKeys";

    private Partitions() {
    }

    static int count(HazelcastInstance hz) {
        return hz.getPartitionService().getPartitions().size();
    }

    /** The partitions the local member owns now, ascending (none on a client or a lite member). */
    static int[] ownedLocally(HazelcastInstance hz) {
        Set<Partition> all = hz.getPartitionService().getPartitions();
        int[] owned = new int[all.size()];
        int n = 0;
        for (Partition partition : all) {
            Member owner = partition.getOwner();
            if (owner != null && owner.localMember()) {
                owned[n++] = partition.getPartitionId();
            }
        }
        int[] out = Arrays.copyOf(owned, n);
        Arrays.sort(out);
        return out;
    }

    /**
     * One key per partition ({@code Integer}s whose hash lands in that partition), to address a partition with a
     * {@code PartitionPredicate}; computed once per instance (a few thousand hashes for 271 partitions).
     */
    static Integer[] routingKeys(HazelcastInstance hz) {
        return (Integer[]) hz.getUserContext().computeIfAbsent(KEYS, k -> {
            PartitionService service = hz.getPartitionService();
            int count = count(hz);
            Integer[] keys = new Integer[count];
            int found = 0;
            for (int candidate = 0; found < count; candidate++) {
                int p = service.getPartition(candidate).getPartitionId();
                if (keys[p] == null) {
                    keys[p] = candidate;
                    found++;
                }
            }
            return keys;
        });
    }

    /** The routing keys of {@code partitions}. */
    static Set<Integer> routingKeys(HazelcastInstance hz, int[] partitions) {
        Integer[] keys = routingKeys(hz);
        Set<Integer> out = new HashSet<>(partitions.length * 2);
        for (int p : partitions) {
            out.add(keys[p]);
        }
        return out;
    }
}
