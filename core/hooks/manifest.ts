/**
 * `plugin.toml` (docs/plugins.md, "plugin.toml"), validated with zod. Durations are seconds or strings such as
 * "500ms", "30s", "2m".
 */
import { parse as parseToml, TomlError } from "smol-toml";
import { z } from "zod";
import { parseDuration } from "../text/duration.ts";
import { PLUGIN_NAME } from "../project/config/schema.ts";
import {
  COMMAND_EVENTS,
  type EventName,
  OBSERVATION_EVENTS,
  SETUP_EVENTS,
  TEARDOWN_EVENTS,
} from "./plugin_api.ts";

export const EVENTS: EventName[] = [
  ...SETUP_EVENTS,
  ...TEARDOWN_EVENTS,
  ...OBSERVATION_EVENTS,
  ...COMMAND_EVENTS,
];

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined || ms > 3_600_000) {
    ctx.addIssue({
      code: "custom",
      message: `must be a duration such as 30, "500ms", "30s" or "2m" (at most 1 hour)`,
    });
    return z.NEVER;
  }
  return ms;
});

const event = z.enum(EVENTS as [EventName, ...EventName[]], `must be one of: ${EVENTS.join(", ")}`);

export const Manifest = z.strictObject({
  api: z.literal(1, "must be 1 (the only plugin protocol)"),
  name: z.string().regex(PLUGIN_NAME, `must match ${PLUGIN_NAME.source}`),
  version: z.string().min(1),
  description: z.string().default(""),
  command: z.array(z.string().min(1)).min(1, 'must name the program to run, e.g. ["./bin/hook"]'),
  events: z.array(event).min(1, "must list at least one event"),
  order: z.int().min(0, "must be 0–100").max(100, "must be 0–100").default(50),
  timeout: duration.default(30_000),
  timeouts: z.partialRecord(event, duration).default({}),
});
export type Manifest = z.infer<typeof Manifest>;

/** Parses plugin.toml text; returns the manifest or a one-line reason it is invalid. */
export function parseManifest(text: string, dirName: string): Manifest | string {
  let data: unknown;
  try {
    data = parseToml(text);
  } catch (e) {
    return e instanceof TomlError ? `plugin.toml:${e.line}:${e.column}: TOML syntax error` : String(e);
  }
  const result = Manifest.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issue.path.join(".");
    return issue.code === "unrecognized_keys"
      ? `plugin.toml: unknown key "${issue.keys.join('", "')}"`
      : `plugin.toml: ${key || "(top level)"}: ${issue.message}`;
  }
  if (result.data.name !== dirName) {
    return `plugin.toml: name "${result.data.name}" must equal its directory name "${dirName}"`;
  }
  return result.data;
}
