/** Writes third-party plugins for tests: a manifest and an executable shell hook. */
import { join } from "node:path";
import { writeFiles } from "./helpers.ts";

export interface TestPlugin {
  name: string;
  events: string[];
  /** The body of a POSIX sh `case "$1" in … esac`; the stdin JSON is in $input. */
  cases: string;
  timeout?: string;
  order?: number;
}

/** Creates `<root>/<name>/plugin.toml` and `bin/hook`; returns the plugin directory. */
export async function writePlugin(root: string, plugin: TestPlugin): Promise<string> {
  const dir = join(root, plugin.name);
  await writeFiles(dir, {
    "plugin.toml": [
      "api = 1",
      `name = "${plugin.name}"`,
      `version = "1.0.0"`,
      `description = "test plugin"`,
      `command = ["./bin/hook"]`,
      `events = [${plugin.events.map((e) => JSON.stringify(e)).join(", ")}]`,
      `order = ${plugin.order ?? 50}`,
      `timeout = "${plugin.timeout ?? "30s"}"`,
      "",
    ].join("\n"),
    "bin/hook": `#!/bin/sh\ninput=$(cat)\ncase "$1" in\n${plugin.cases}\n  *) exit 100 ;;\nesac\n`,
  });
  await Deno.chmod(join(dir, "bin/hook"), 0o755);
  return dir;
}

/** infra.toml text enabling the given plugins. */
export const enableToml = (project: string, names: string[], extra = "") =>
  `[project]\nname = "${project}"\n${extra}\n[plugins]\nenable = [${
    names.map((n) => JSON.stringify(n)).join(", ")
  }]\n`;
