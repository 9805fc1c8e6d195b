package dev.mempipe.hazelcast;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Embedded Hazelcast members in this JVM, on loopback only: TCP-IP join on 127.0.0.1, no multicast, no phone-home,
 * a cluster name of its own (so concurrent builds on the machine never join each other) and 23 partitions (fewer
 * partitions, faster migrations; enough that three members each own several).
 */
final class LoopbackCluster implements AutoCloseable {
    static final int PARTITIONS = 23;
    private static final Logger HAZELCAST_LOG = Logger.getLogger("com.hazelcast");

    static {
        HAZELCAST_LOG.setLevel(Level.SEVERE); // members log every join and migration at INFO
    }

    private final String clusterName = "mempipe-test-" + UUID.randomUUID();
    private final int basePort = 20000 + ThreadLocalRandom.current().nextInt(20000);
    private final List<HazelcastInstance> members = new ArrayList<>();

    LoopbackCluster(int size) {
        for (int i = 0; i < size; i++) {
            start();
        }
    }

    /** Starts one more member and waits until the cluster is safe (every partition's backups in place). */
    HazelcastInstance start() {
        HazelcastInstance member = Hazelcast.newHazelcastInstance(config());
        members.add(member);
        awaitSafe();
        return member;
    }

    /** Kills member {@code index} as a crash would: no migration, no goodbye (Hazelcast's {@code terminate}). */
    void terminate(int index) {
        members.remove(index).getLifecycleService().terminate();
    }

    HazelcastInstance member(int index) {
        return members.get(index);
    }

    int size() {
        return members.size();
    }

    /** Waits (up to 20 s) until every partition is owned and backed up as configured. */
    void awaitSafe() {
        long deadline = System.nanoTime() + 20_000_000_000L;
        // the member count first: isClusterSafe asks every member in the view, and waits out a killed one
        while (members.stream().anyMatch(m -> m.getCluster().getMembers().size() != members.size()
                || !m.getPartitionService().isClusterSafe())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("cluster " + clusterName + " not safe after 20 s: " + members.stream()
                        .map(m -> m.getCluster().getMembers().size() + " members, safe "
                                + m.getPartitionService().isClusterSafe()).toList());
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** A client of this cluster (loopback only, no phone-home). */
    ClientConfig clientConfig() {
        ClientConfig config = new ClientConfig();
        config.setClusterName(clusterName);
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "jdk");
        for (HazelcastInstance member : members) {
            InetSocketAddress address = (InetSocketAddress) member.getLocalEndpoint().getSocketAddress();
            config.getNetworkConfig().addAddress("127.0.0.1:" + address.getPort());
        }
        return config;
    }

    private Config config() {
        Config config = new Config();
        config.setClusterName(clusterName);
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.partition.count", Integer.toString(PARTITIONS));
        config.setProperty("hazelcast.wait.seconds.before.join", "0");
        config.setProperty("hazelcast.socket.bind.any", "false");
        config.setProperty("hazelcast.logging.type", "jdk");
        config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        config.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(basePort).setPortAutoIncrement(true).setPortCount(10);
        network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        for (int port = basePort; port < basePort + 6; port++) {
            join.getTcpIpConfig().setEnabled(true).addMember("127.0.0.1:" + port);
        }
        return config;
    }

    @Override
    public void close() {
        for (HazelcastInstance member : members) {
            member.getLifecycleService().terminate(); // fast: nothing to hand over when everything stops
        }
        members.clear();
    }
}
