/**
 * kinfra's entry point: run the CLI, and turn any error into its message and exit code.
 * Ctrl-C aborts the running command (which rolls back) and exits 130; a second Ctrl-C exits at once.
 */
import { runCli } from "./core/cli/cli.ts";
import { Exit, interrupted, KinfraError } from "./core/errors.ts";
import { colorEnabled, makeStyle } from "./core/io/output.ts";
import { reportError } from "./core/cli/report.ts";

const controller = new AbortController();
Deno.addSignalListener("SIGINT", () => controller.signal.aborted ? Deno.exit(130) : controller.abort());

const args = Deno.args;
// No top-level await: a bundle's parts may import this module's own, which must have finished evaluating.
runCli(args, {
  signal: controller.signal,
  builtins: async () => (await import("./plugins/mod.ts")).builtinPlugins,
}).then(
  // A command that returns has said what happened itself, Ctrl-C or not (exactly one JSON document).
  (code) => Deno.exit(code),
  (error) => {
    const style = makeStyle(!args.includes("--no-color") && colorEnabled(false));
    const wasInterrupted = error instanceof KinfraError && error.code === Exit.interrupted;
    Deno.exit(reportError(controller.signal.aborted && !wasInterrupted ? interrupted() : error, {
      json: args.includes("--json"),
      verbose: args.includes("-v") || args.includes("--verbose"),
      style,
    }));
  },
);
