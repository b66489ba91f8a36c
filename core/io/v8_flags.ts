/**
 * The V8 flags kinfra runs with, wherever it runs: compiled into the release binaries (`deno compile
 * --v8-flags`), on the bundle's `#!` line, in the `deno run` shim that plugins and the proxy start
 * (`$KINFRA_BIN`), and in the tests and the bench, which run what ships.
 *
 * A new space of 4 MB where V8 starts with 1: a command allocates 1–2 MB (`status` or `worktrees` over
 * 500 registry entries, `impl`, `done`), and each time the 1 MB fills V8 stops for a scavenge, 0.5 ms
 * or, when its helper thread waits for a core the way it does on a busy machine, 3 ms. With 4 MB one
 * command runs without any (`--v8-flags=--trace-gc` shows them); a process holds ~6 MB more for it.
 *
 * Every function compiled when its module is, not when first called (`--no-lazy`): the code cache Deno
 * keeps per module then holds them all, and a command deserialises its functions instead of parsing and
 * compiling each as it first runs them (`status --json` −1 to −2 ms, `worktrees` −0.5 to −1 ms; the first
 * run after an install, which fills the cache, +5 ms). The cache is keyed by these flags, so they are
 * the same everywhere kinfra runs.
 */
export const V8_FLAGS = ["--min-semi-space-size=4", "--no-lazy"] as const;

/** The flags as one `deno run`/`deno compile` argument. */
export const V8_FLAGS_ARG = `--v8-flags=${V8_FLAGS.join(",")}`;
