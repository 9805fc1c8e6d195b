package dev.mempipe.spi.io;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The one way mempipe writes a file (stores, reports, {@code .npy} outputs): the new contents go to a temporary file
 * in the target's folder, are forced to disk, and the temporary file is renamed over the target atomically; then the
 * folder is forced, so that the rename itself survives a power cut. A crash at any moment leaves the old file or the
 * new one, whole; a failed write (full disk, an exception while writing) leaves the old file untouched and removes
 * the temporary file.
 *
 * <p>What the user's file system had stays as it was:
 * <ul>
 *   <li>an existing target keeps its POSIX permissions, owner and group (the owner only where the process may set
 *       it, that is when it is the owner already or runs as root; otherwise one warning is logged);</li>
 *   <li>a symbolic link is followed (through every hop) and its final target is replaced; the link stays a link;</li>
 *   <li>a new file gets the permissions the process's umask gives any new file (not owner-only);</li>
 *   <li>errors name the path the caller gave ("cannot write out/s.npy: the folder out does not exist"), never the
 *       internal temporary file.</li>
 * </ul>
 *
 * <p>Temporary files are named {@code .<name>.<12 random letters or digits>.mempipe-tmp}. A process killed while
 * writing leaves its temporary file behind; the next write of the same target removes the ones of that target that
 * are older than {@link #STALE_AFTER} (a live writer touches its file continuously, so an old one is a dead one).
 * Files of other names, links and folders are never touched. Version 0.1 of the store wrote
 * {@code .<name>.<digits>.tmp}; those are removed the same way.
 *
 * <p>Stateless and thread-safe. Two writers of the same target at the same time each produce a whole file; the last
 * rename wins.
 */
public final class AtomicFile {
    /** Suffix of every temporary file this class creates. */
    public static final String TEMP_SUFFIX = ".mempipe-tmp";
    /** Temporary files of a target that have not changed for this long are left over from a crash. */
    public static final Duration STALE_AFTER = Duration.ofMinutes(10);

    private static final System.Logger LOG = System.getLogger(AtomicFile.class.getName());
    private static final int RANDOM_CHARS = 12;
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
    /** Leaves room for the random part and the suffix within the usual 255-byte name limit. */
    private static final int MAX_NAME_IN_TEMP = 200;
    private static final int MAX_LINK_HOPS = 40;
    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFile() {
    }

    /** The steps of a write, in order; a {@link StepListener} sees each one as it completes. */
    public enum Step {
        /** The empty temporary file exists beside the target. */
        TEMP_CREATED,
        /** The contents were written to the temporary file (not yet forced). */
        WRITTEN,
        /** The temporary file was forced to disk and closed, with the target's permissions. */
        FORCED,
        /** The temporary file was renamed over the target. */
        RENAMED,
        /** The folder was forced: the rename is durable. */
        DIRECTORY_FORCED
    }

    /** Writes the file's contents; the channel is positioned at 0 and may be written anywhere (sections patch). */
    @FunctionalInterface
    public interface Contents {
        void writeTo(FileChannel out) throws IOException;
    }

    /**
     * Sees each {@link Step} as it completes, with the temporary file and the (resolved) target: crash tests copy
     * the folder at each step to see what a crash there would leave. Not for production use.
     */
    @FunctionalInterface
    public interface StepListener {
        StepListener NONE = (step, temp, target) -> { };

        void reached(Step step, Path temp, Path target) throws IOException;
    }

    /** Writes {@code bytes} as the whole of {@code file}. */
    public static void write(Path file, byte[] bytes) throws IOException {
        Objects.requireNonNull(bytes, "bytes");
        write(file, out -> {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                out.write(b);
            }
        });
    }

    /** Writes {@code text} as UTF-8 as the whole of {@code file}. */
    public static void writeString(Path file, String text) throws IOException {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes {@code file} with {@code contents}, atomically and durably (see the class comment). */
    public static void write(Path file, Contents contents) throws IOException {
        write(file, contents, StepListener.NONE);
    }

    /**
     * {@link #write(Path, Contents)}, telling {@code listener} each step.
     *
     * @throws IOException naming {@code file} as given, with the reason; the old file is untouched
     */
    public static void write(Path file, Contents contents, StepListener listener) throws IOException {
        Objects.requireNonNull(contents, "contents");
        Objects.requireNonNull(listener, "listener");
        Path target = checkWritable(file);
        Path dir = target.getParent();
        removeStaleTemps(target, STALE_AFTER);
        PosixFileAttributes old = posixAttributes(target);
        Path temp = createTemp(file, target);
        try {
            listener.reached(Step.TEMP_CREATED, temp, target);
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                contents.writeTo(out);
                listener.reached(Step.WRITTEN, temp, target);
                out.force(true);
            }
            if (old != null) {
                keepAttributes(file, temp, old);
            }
            listener.reached(Step.FORCED, temp, target);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw failure(file, e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(temp);
            throw e;
        }
        listener.reached(Step.RENAMED, temp, target);
        forceDirectory(dir);
        listener.reached(Step.DIRECTORY_FORCED, temp, target);
    }

    /**
     * Checks, without writing anything that stays, that {@code file} can be written: its folder exists and is a
     * folder, the file is not a folder, and a file can be created in the folder. Commands call this before long
     * work, so that a bad output path fails in a second, not after the work.
     *
     * @return the path the write will replace: {@code file} absolute, with symbolic links followed
     * @throws IOException naming {@code file} and what is wrong
     */
    public static Path checkWritable(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        Path target = resolveLinks(file);
        Path dir = target.getParent();
        if (target.getFileName() == null || dir == null) {
            throw new IOException("cannot write " + file + ": not a file name");
        }
        if (!Files.exists(dir)) {
            throw new IOException("cannot write " + file + ": the folder "
                    + shown(file, dir) + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException("cannot write " + file + ": " + shown(file, dir) + " is not a folder");
        }
        if (Files.isDirectory(target)) {
            throw new IOException("cannot write " + file + ": it is a folder");
        }
        if (!Files.isWritable(dir)) {
            throw new IOException("cannot write " + file + ": no permission to create files in "
                    + shown(file, dir));
        }
        return target;
    }

    /**
     * Removes the temporary files that earlier writes of {@code file} left behind (processes killed while writing),
     * those not modified for {@code olderThan}. Only regular files named as this class names its temporary files
     * for this very target are considered.
     *
     * @return how many were removed
     */
    public static int removeStaleTemps(Path file, Duration olderThan) throws IOException {
        Path target = resolveLinks(file);
        Path dir = target.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            return 0;
        }
        Pattern ours = tempPattern(target.getFileName().toString());
        Instant cutoff = Instant.now().minus(olderThan);
        int removed = 0;
        long bytes = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, p -> ours.matcher(
                p.getFileName().toString()).matches())) {
            for (Path candidate : entries) {
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(candidate, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException gone) {
                    continue;
                }
                if (a.isRegularFile() && a.lastModifiedTime().toInstant().isBefore(cutoff)
                        && Files.deleteIfExists(candidate)) {
                    removed++;
                    bytes += a.size();
                }
            }
        }
        if (removed > 0) {
            LOG.log(Level.INFO, "removed " + removed + " temporary file(s) (" + bytes + " bytes) left by interrupted"
                    + " writes of " + file);
        }
        return removed;
    }

    /** Whether {@code name} is a temporary file name this class gives for a target named {@code targetName}. */
    public static boolean isTempOf(String name, String targetName) {
        return tempPattern(targetName).matcher(name).matches();
    }

    /** {@code file} absolute, each symbolic link replaced by what it points to (relative links from their folder). */
    static Path resolveLinks(Path file) throws IOException {
        Path p = file.toAbsolutePath();
        for (int hops = 0; Files.isSymbolicLink(p); hops++) {
            if (hops == MAX_LINK_HOPS) {
                throw new IOException("cannot write " + file + ": more than " + MAX_LINK_HOPS
                        + " symbolic links in a row (a loop?)");
            }
            p = p.resolveSibling(Files.readSymbolicLink(p));
        }
        return p;
    }

    private static Pattern tempPattern(String targetName) {
        return Pattern.compile("\\." + Pattern.quote(nameInTemp(targetName)) + "\\.[a-z0-9]{" + RANDOM_CHARS + "}"
                + Pattern.quote(TEMP_SUFFIX) + "|\\." + Pattern.quote(targetName) + "\\.[0-9]+\\.tmp");
    }

    private static String nameInTemp(String targetName) {
        return targetName.length() > MAX_NAME_IN_TEMP ? targetName.substring(0, MAX_NAME_IN_TEMP) : targetName;
    }

    private static Path createTemp(Path file, Path target) throws IOException {
        String prefix = "." + nameInTemp(target.getFileName().toString()) + ".";
        for (int attempt = 0; ; attempt++) {
            StringBuilder name = new StringBuilder(prefix);
            for (int i = 0; i < RANDOM_CHARS; i++) {
                name.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
            }
            Path temp = target.resolveSibling(name.append(TEMP_SUFFIX).toString());
            try {
                // CREATE_NEW with no attributes: the umask decides, as for any new file of the user's
                FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return temp;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt == 10) {
                    throw failure(file, e);
                }
            } catch (IOException e) {
                throw failure(file, e);
            }
        }
    }

    private static PosixFileAttributes posixAttributes(Path target) throws IOException {
        if (!Files.exists(target) || Files.getFileAttributeView(target, PosixFileAttributeView.class) == null) {
            return null;
        }
        try {
            return Files.readAttributes(target, PosixFileAttributes.class);
        } catch (NoSuchFileException gone) {
            return null;
        }
    }

    /** Gives the temporary file the old target's permissions, group and owner. */
    private static void keepAttributes(Path file, Path temp, PosixFileAttributes old) throws IOException {
        Files.setPosixFilePermissions(temp, old.permissions());
        PosixFileAttributes now = Files.readAttributes(temp, PosixFileAttributes.class);
        try {
            if (!now.group().equals(old.group())) {
                Files.getFileAttributeView(temp, PosixFileAttributeView.class).setGroup(old.group());
            }
            if (!now.owner().equals(old.owner())) {
                Files.setOwner(temp, old.owner());
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "writing " + file + ": cannot keep its owner " + old.owner().getName() + ":"
                    + old.group().getName() + " (" + e.getMessage() + "); the new file belongs to "
                    + now.owner().getName() + ":" + now.group().getName());
        }
        // chown may clear set-user-id bits: put the permissions back
        Files.setPosixFilePermissions(temp, old.permissions());
    }

    /**
     * Makes the rename durable. A folder cannot be opened for this on every platform (Windows refuses): there the
     * rename is still atomic, only its durability across a power cut is up to the file system.
     */
    private static void forceDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "could not force folder " + dir + " after a rename: " + e);
        }
    }

    private static void deleteQuietly(Path temp) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not remove the temporary file " + temp + ": " + e.getMessage()
                    + " (the next write of its target removes it once it is " + STALE_AFTER.toMinutes()
                    + " minutes old)");
        }
    }

    /** An exception naming the user's path, with the reason and without the temporary file's name. */
    private static IOException failure(Path file, IOException e) {
        if (e.getMessage() != null && e.getMessage().startsWith("cannot write " + file + ":")) {
            return e;
        }
        String reason;
        if (e instanceof NoSuchFileException) {
            reason = "no such file or folder";
        } else if (e instanceof AccessDeniedException) {
            reason = "permission denied";
        } else if (e instanceof FileSystemException fse && fse.getReason() != null) {
            reason = fse.getReason();
        } else {
            reason = String.valueOf(e.getMessage());
        }
        return new IOException("cannot write " + file + ": " + reason, e);
    }

    /** The folder as the user would name it: relative when they gave a relative path. */
    private static String shown(Path file, Path dir) {
        Path parent = file.getParent();
        return parent != null && !Files.isSymbolicLink(file) ? parent.toString() : dir.toString();
    }
}
