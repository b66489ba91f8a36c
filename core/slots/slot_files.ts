/**
 * A slot's name and the files of its directory (`<home>/slots/<project>-<n>/`), in one place for
 * the code that writes them (core/sandbox/sandbox.ts), reads them (`kinfra env`, teardown) and the
 * plugins (exported in the plugin API).
 */
import { join } from "../io/path.ts";

/** The files of a slot directory. */
export const SLOT_FILES = {
  /** Compose's resolved model for the slot: teardown uses it. */
  compose: "docker-compose.yml",
  /** The override merged from what plugins return. */
  override: "docker-compose.override.yml",
  /** kinfra's variables, one `KEY=value` a line. */
  env: ".env.sandbox",
} as const;

/**
 * A slot's name: its directory's name and the value of the `dev.kinfra.slot` label.
 *
 * @example
 * slotName("shop", 2); // "shop-2"
 */
export const slotName = (project: string, id: number): string => `${project}-${id}`;

/** The compose project name of a slot: `<project>-slot-<n>`. */
export const composeProject = (project: string, slot: number) => `${project}-slot-${slot}`;

/** A slot's compose project name read back (whoever made it), or undefined for anything else. */
export function parseComposeProject(name: string): { project: string; id: number } | undefined {
  const m = /^(.+)-slot-([0-9]+)$/.exec(name);
  return m ? { project: m[1], id: Number(m[2]) } : undefined;
}

/** A slot directory's name (`<project>-<n>`) read back, or undefined for anything else. */
export function parseSlotDir(name: string): { project: string; id: number } | undefined {
  const m = /^(.+)-([0-9]+)$/.exec(name);
  return m ? { project: m[1], id: Number(m[2]) } : undefined;
}

/** The slot directory: `<home>/slots/<project>-<n>`. */
export const slotDir = (ctx: { home: { slots: string } }, project: string, slot: number) =>
  join(ctx.home.slots, slotName(project, slot));

/** The absolute paths of a slot directory's files. */
export function slotFiles(dir: string): { compose: string; override: string; env: string } {
  return {
    compose: join(dir, SLOT_FILES.compose),
    override: join(dir, SLOT_FILES.override),
    env: join(dir, SLOT_FILES.env),
  };
}

/** `.env.sandbox`: one `KEY=value` per line, COMPOSE_PROJECT_NAME first (seed format). */
export function renderEnv(env: Record<string, string>): string {
  // Values were checked by the dispatcher; this is the last line of defence against a line break.
  return Object.entries(env).map(([k, v]) => `${k}=${v.replace(/[\r\n]/g, " ")}`).join("\n") + "\n";
}

/** Reads back what `renderEnv` wrote: the first `=` of each line splits name and value. */
export function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split("\n").filter((l) => l.includes("=")).map((l) => {
      const i = l.indexOf("=");
      return [l.slice(0, i), l.slice(i + 1)];
    }),
  );
}
