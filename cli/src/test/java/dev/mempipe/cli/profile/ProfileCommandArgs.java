package dev.mempipe.cli.profile;

import dev.mempipe.cli.CliException;

import java.util.List;

/** {@link ProfileCommand#parse} for tests outside this package (the fuzz test of the command lines). */
public final class ProfileCommandArgs {
    private ProfileCommandArgs() {
    }

    public static ProfileOptions parse(List<String> tokens) throws CliException {
        return ProfileCommand.parse(tokens);
    }
}
