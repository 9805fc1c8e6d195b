package dev.mempipe.spi.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class AtomicFileTest {
    @TempDir
    Path dir;

    @Test
    void should_write_the_whole_contents_and_leave_no_temporary_file() throws IOException {
        Path file = dir.resolve("a.bin");
        AtomicFile.write(file, "first".getBytes(StandardCharsets.UTF_8));
        AtomicFile.writeString(file, "second, longer");
        assertEquals("second, longer", Files.readString(file));
        assertEquals(List.of("a.bin"), names());
    }

    @Test
    void should_give_a_new_file_the_umask_permissions_not_owner_only() throws IOException {
        Path reference = Files.createFile(dir.resolve("reference"));
        Path file = dir.resolve("new.bin");
        AtomicFile.writeString(file, "x");
        assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(file));
    }

    @Test
    void should_keep_the_permissions_of_an_existing_file() throws IOException {
        for (String mode : List.of("rw-r--r--", "rw-r-----", "rw----r--", "r--r--r--", "rwxr-x---")) {
            Path file = dir.resolve("kept-" + mode);
            Files.writeString(file, "old");
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
            AtomicFile.writeString(file, "new");
            assertEquals(mode, PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), file.toString());
            assertEquals("new", Files.readString(file));
        }
    }

    @Test
    void should_keep_the_owner_and_group_of_an_existing_file_when_it_may() throws IOException {
        Path file = dir.resolve("owned");
        Files.writeString(file, "old");
        boolean root = "root".equals(System.getProperty("user.name"));
        UserPrincipal owner = Files.getOwner(file);
        if (root) { // only root can give a file away: test the real case, another user's file
            owner = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
            Files.setOwner(file, owner);
        }
        AtomicFile.writeString(file, "new");
        assertEquals(owner, Files.getOwner(file));
    }

    @Test
    void should_write_through_a_chain_of_symbolic_links_and_keep_the_links() throws IOException {
        Path real = Files.createDirectory(dir.resolve("data")).resolve("store.bin");
        Files.writeString(real, "old");
        Path hop = Files.createSymbolicLink(dir.resolve("hop"), Path.of("data/store.bin")); // relative
        Path link = Files.createSymbolicLink(dir.resolve("link"), hop);
        AtomicFile.writeString(link, "new");
        assertTrue(Files.isSymbolicLink(link));
        assertTrue(Files.isSymbolicLink(hop));
        assertEquals("new", Files.readString(real));
        assertEquals(List.of("store.bin"), names(real.getParent()));
    }

    @Test
    void should_create_the_target_of_a_dangling_link() throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("link"), Path.of("later.bin"));
        AtomicFile.writeString(link, "new");
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("new", Files.readString(dir.resolve("later.bin")));
    }

    @Test
    void should_name_the_users_path_when_the_folder_is_missing() {
        Path file = dir.resolve("missing/out.npy");
        IOException e = assertThrows(IOException.class, () -> AtomicFile.writeString(file, "x"));
        assertEquals("cannot write " + file + ": the folder " + file.getParent() + " does not exist", e.getMessage());
    }

    @Test
    void should_name_the_users_path_when_it_is_a_folder_or_under_a_file() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("folder"));
        IOException e = assertThrows(IOException.class, () -> AtomicFile.writeString(folder, "x"));
        assertEquals("cannot write " + folder + ": it is a folder", e.getMessage());

        Path plain = Files.writeString(dir.resolve("plain"), "x");
        Path under = plain.resolve("out.bin");
        e = assertThrows(IOException.class, () -> AtomicFile.writeString(under, "x"));
        assertEquals("cannot write " + under + ": " + plain + " is not a folder", e.getMessage());
        assertFalse(e.getMessage().contains(AtomicFile.TEMP_SUFFIX));
    }

    @Test
    void should_leave_the_old_file_and_no_temporary_file_when_writing_fails() throws IOException {
        Path file = Files.writeString(dir.resolve("s.bin"), "old");
        IOException e = assertThrows(IOException.class, () -> AtomicFile.write(file, out -> {
            out.write(ByteBuffer.wrap(new byte[1000]));
            throw new IOException("No space left on device");
        }));
        assertEquals("cannot write " + file + ": No space left on device", e.getMessage());
        assertEquals("old", Files.readString(file));
        assertEquals(List.of("s.bin"), names());

        assertThrows(IllegalStateException.class, () -> AtomicFile.write(file, out -> {
            throw new IllegalStateException("a bug while writing");
        }));
        assertEquals("old", Files.readString(file));
        assertEquals(List.of("s.bin"), names());
    }

    @Test
    void should_report_every_step_in_order_with_the_old_file_in_place_until_the_rename() throws IOException {
        Path file = Files.writeString(dir.resolve("s.bin"), "old");
        List<AtomicFile.Step> seen = new ArrayList<>();
        AtomicFile.write(file, out -> out.write(ByteBuffer.wrap("new".getBytes(StandardCharsets.UTF_8))),
                (step, temp, target) -> {
                    seen.add(step);
                    assertEquals(file.toAbsolutePath(), target);
                    boolean renamed = step.compareTo(AtomicFile.Step.RENAMED) >= 0;
                    assertEquals(renamed ? "new" : "old", Files.readString(target), step.name());
                    assertEquals(!renamed, Files.exists(temp), step.name());
                    assertTrue(AtomicFile.isTempOf(temp.getFileName().toString(), "s.bin"), temp.toString());
                });
        assertEquals(List.of(AtomicFile.Step.values()), seen);
    }

    @Test
    void should_remove_only_its_own_old_temporary_files_of_that_target() throws IOException {
        Path file = Files.writeString(dir.resolve("s.bin"), "old");
        FileTime hourAgo = FileTime.from(Instant.now().minusSeconds(3600));
        Path stale = aged(dir.resolve(".s.bin.abcdefghijkl.mempipe-tmp"), hourAgo);
        Path legacy = aged(dir.resolve(".s.bin.1234567890.tmp"), hourAgo);
        Path fresh = Files.writeString(dir.resolve(".s.bin.mnopqrstuvwx.mempipe-tmp"), "a live write");
        Path otherTarget = aged(dir.resolve(".t.bin.abcdefghijkl.mempipe-tmp"), hourAgo);
        Path notOurs = aged(dir.resolve(".s.bin.notours.tmp"), hourAgo);
        Path userFile = aged(dir.resolve("s.bin.abcdefghijkl.mempipe-tmp"), hourAgo); // no leading dot
        Path folder = Files.createDirectory(dir.resolve(".s.bin.folder000000.mempipe-tmp"));
        Path link = Files.createSymbolicLink(dir.resolve(".s.bin.link00000000.mempipe-tmp"), notOurs);

        AtomicFile.writeString(file, "new");

        assertFalse(Files.exists(stale));
        assertFalse(Files.exists(legacy));
        for (Path kept : List.of(fresh, otherTarget, notOurs, userFile, folder, link)) {
            assertTrue(Files.exists(kept, java.nio.file.LinkOption.NOFOLLOW_LINKS), kept.toString());
        }
        assertEquals(0, AtomicFile.removeStaleTemps(file, AtomicFile.STALE_AFTER));
    }

    @Test
    void should_check_writability_without_leaving_anything() throws IOException {
        Path file = dir.resolve("out.bin");
        assertEquals(file.toAbsolutePath(), AtomicFile.checkWritable(file));
        assertEquals(List.of(), names());
        assertThrows(IOException.class, () -> AtomicFile.checkWritable(dir.resolve("no/out.bin")));
    }

    @Test
    void should_refuse_a_folder_without_write_permission_naming_the_path() throws IOException {
        assumeTrue(!"root".equals(System.getProperty("user.name")), "root may write a read-only folder");
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        Path file = ro.resolve("x.bin");
        IOException e = assertThrows(IOException.class, () -> AtomicFile.writeString(file, "x"));
        assertTrue(e.getMessage().startsWith("cannot write " + file + ": "), e.getMessage());
    }

    @Test
    void should_write_a_target_with_a_very_long_name() throws IOException {
        Path file = dir.resolve("n".repeat(240));
        AtomicFile.write(file, new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(file));
    }

    private static Path aged(Path file, FileTime time) throws IOException {
        Files.writeString(file, "left over");
        Files.setLastModifiedTime(file, time);
        return file;
    }

    private List<String> names() throws IOException {
        return names(dir);
    }

    private static List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
