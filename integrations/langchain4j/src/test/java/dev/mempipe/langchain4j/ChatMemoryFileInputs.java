package dev.mempipe.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessageSerializer;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;

/**
 * Writes the first checked-in inputs of {@link ChatMemoryFileFuzzTest}: files the memories saved, and forged files
 * whose checksums are right, so that the replay in {@code ./mvnw verify} reaches the checks behind the checksums.
 * Run once by hand: {@code java -cp <test class path> dev.mempipe.langchain4j.ChatMemoryFileInputs <folder>}.
 */
final class ChatMemoryFileInputs {
    private ChatMemoryFileInputs() {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        Files.createDirectories(out);
        int d = ChatMemoryFileFuzzTest.D;

        CompressedChatMemory small = CompressedChatMemory.builder().embeddingModel(new WordHashChatMemoryModel(d))
                .maxTokens(40).recallTokens(10).archiveCapacity(2).build();
        small.add(SystemMessage.from("Be brief."));
        small.add(UserMessage.from("my cat is Tom"));
        small.add(AiMessage.from("Tom is a fine name"));
        small.add(UserMessage.from("the weather in Porto is mild today"));
        small.add(AiMessage.from("mild weather suits a walk by the river"));
        small.add(UserMessage.from("what is my cat called?"));
        small.save(out.resolve("compressed-small"));
        ChatMemoryFileFuzzTest.compressed().save(out.resolve("compressed-empty"));

        MemAgentChatMemory agent = MemAgentChatMemory.builder().chatModel(
                new MemAgentChatMemoryTest.ScriptedChatModel(r -> "Ada lives in Porto.")).rewriteEvery(2).build();
        agent.add(SystemMessage.from("Be brief."));
        agent.add(UserMessage.from("I am Ada from Porto"));
        agent.add(AiMessage.from("Hello Ada"));
        agent.add(UserMessage.from("I like tea"));
        agent.save(out.resolve("mem-agent-small"));
        ChatMemoryFileFuzzTest.memAgent().save(out.resolve("mem-agent-empty"));

        String user = ChatMessageSerializer.messageToJson(UserMessage.from("hi"));
        String system = ChatMessageSerializer.messageToJson(SystemMessage.from("sys"));
        byte[] noSystem = {0};
        Files.write(out.resolve("header-only"), header(ChatMemoryFile.COMPRESSED, d));
        Files.write(out.resolve("not-a-chat-memory"), "MPSTORE\u001a this is something else".getBytes(
                StandardCharsets.ISO_8859_1));
        Files.write(out.resolve("unknown-kind"), file(header((byte) 9, 0)));
        Files.write(out.resolve("forged-window-count"), file(header(ChatMemoryFile.COMPRESSED, d),
                section(ChatMemoryFile.SYS, noSystem), section(ChatMemoryFile.WIND, ints(0x7fffffff)),
                section(ChatMemoryFile.ARCH, ints(0))));
        Files.write(out.resolve("forged-string-length"), file(header(ChatMemoryFile.MEM_AGENT, 0),
                section(ChatMemoryFile.SYS, noSystem), section(ChatMemoryFile.MEMO, ints(0x40000000)),
                section(ChatMemoryFile.WAIT, ints(0))));
        Files.write(out.resolve("forged-archive-count"), file(header(ChatMemoryFile.COMPRESSED, d),
                section(ChatMemoryFile.SYS, noSystem), section(ChatMemoryFile.WIND, ints(0)),
                section(ChatMemoryFile.ARCH, ints(0x20000000))));
        Files.write(out.resolve("nan-summary"), file(header(ChatMemoryFile.COMPRESSED, d),
                section(ChatMemoryFile.SYS, noSystem), section(ChatMemoryFile.WIND, ints(0)),
                section(ChatMemoryFile.ARCH, concat(ints(1), summary(d, Float.NaN), string(user)))));
        Files.write(out.resolve("long-summary"), file(header(ChatMemoryFile.COMPRESSED, d),
                section(ChatMemoryFile.SYS, noSystem), section(ChatMemoryFile.WIND, ints(0)),
                section(ChatMemoryFile.ARCH, concat(ints(1), summary(d, 3f), string(user)))));
        Files.write(out.resolve("system-in-window"), file(header(ChatMemoryFile.COMPRESSED, d),
                section(ChatMemoryFile.SYS, noSystem), section(ChatMemoryFile.WIND, concat(ints(1), string(system))),
                section(ChatMemoryFile.ARCH, ints(0))));
        Files.write(out.resolve("user-as-system"), file(header(ChatMemoryFile.MEM_AGENT, 0),
                section(ChatMemoryFile.SYS, concat(new byte[]{1}, string(user))),
                section(ChatMemoryFile.MEMO, string("")), section(ChatMemoryFile.WAIT, ints(0))));
        for (String json : new String[]{"{", "null", "{\"type\":\"USER\"}", "{\"type\":\"NOPE\",\"text\":\"x\"}",
                "[" .repeat(5000)}) {
            String name = switch (json.length() > 40 ? "deep" : json) {
                case "{" -> "json-unterminated";
                case "null" -> "json-null";
                case "deep" -> "json-deeply-nested";
                default -> json.contains("NOPE") ? "json-unknown-type" : "json-user-without-contents";
            };
            Files.write(out.resolve(name), file(header(ChatMemoryFile.MEM_AGENT, 0),
                    section(ChatMemoryFile.SYS, noSystem), section(ChatMemoryFile.MEMO, string("")),
                    section(ChatMemoryFile.WAIT, concat(ints(1), string(json)))));
        }
    }

    static byte[] header(byte kind, int dimension) {
        ByteBuffer h = ByteBuffer.allocate(ChatMemoryFile.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        h.put(ChatMemoryFile.MAGIC).putInt(ChatMemoryFile.VERSION).put(kind).put(new byte[3]).putInt(dimension)
                .putInt(3).putInt(0);
        CRC32 crc = new CRC32();
        crc.update(h.array(), 0, h.position());
        return h.putInt((int) crc.getValue()).array();
    }

    static byte[] section(int tag, byte[] payload) {
        CRC32 crc = new CRC32();
        crc.update(payload);
        return ByteBuffer.allocate(12 + payload.length + 4).order(ByteOrder.LITTLE_ENDIAN).putInt(tag)
                .putLong(payload.length).put(payload).putInt((int) crc.getValue()).array();
    }

    static byte[] ints(int... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }

    static byte[] string(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        return concat(ints(utf8.length), utf8);
    }

    /** A row of {@code d} floats: {@code first}, then zeros. */
    static byte[] summary(int d, float first) {
        ByteBuffer b = ByteBuffer.allocate(4 * d).order(ByteOrder.LITTLE_ENDIAN).putFloat(first);
        return b.array();
    }

    static byte[] file(byte[]... parts) {
        return concat(parts);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            all.writeBytes(p);
        }
        return all.toByteArray();
    }
}
