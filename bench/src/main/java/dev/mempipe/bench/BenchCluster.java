package dev.mempipe.bench;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Embedded Hazelcast members in the benchmark's JVM, on loopback only (TCP-IP join on 127.0.0.1, no multicast, no
 * phone-home, a cluster name of their own). Every member shares this one machine's cores and memory bandwidth: the
 * figures show the engine's overhead and the cost of the hop and the merge, not scale-out.
 */
final class BenchCluster implements AutoCloseable {
    private static final int BASE_PORT = 15701;
    /** Held: java.util.logging keeps loggers weakly, and a collected one forgets its level. */
    private static final Logger HAZELCAST_LOG = Logger.getLogger("com.hazelcast");
    private final List<HazelcastInstance> members = new ArrayList<>();

    BenchCluster(int size) {
        HAZELCAST_LOG.setLevel(Level.WARNING); // members log every join and migration at INFO
        String name = "mempipe-bench-" + UUID.randomUUID();
        for (int i = 0; i < size; i++) {
            members.add(Hazelcast.newHazelcastInstance(config(name)));
        }
        while (members.stream().anyMatch(m -> m.getCluster().getMembers().size() != size
                || !m.getPartitionService().isClusterSafe())) {
            Thread.onSpinWait();
        }
    }

    HazelcastInstance member(int index) {
        return members.get(index);
    }

    private static Config config(String clusterName) {
        Config config = new Config();
        config.setClusterName(clusterName);
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.wait.seconds.before.join", "0");
        config.setProperty("hazelcast.socket.bind.any", "false");
        config.setProperty("hazelcast.logging.type", "jdk");
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(BASE_PORT).setPortAutoIncrement(true).setPortCount(20);
        network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        for (int port = BASE_PORT; port < BASE_PORT + 6; port++) {
            join.getTcpIpConfig().setEnabled(true).addMember("127.0.0.1:" + port);
        }
        return config;
    }

    @Override
    public void close() {
        members.forEach(m -> m.getLifecycleService().terminate());
    }
}
