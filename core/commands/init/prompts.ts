/**
 * The terminal side of `kinfra init`: prompts whose starting values are the current answers.
 * Loaded only when a terminal is present; the decisions themselves live in init_plan.ts.
 */
import * as p from "@clack/prompts";
import { parseMount } from "../../project/config/mounts.ts";
import { PROJECT_NAME } from "../../project/config/schema.ts";
import type { InitAnswers, PortAnalysis } from "./plan.ts";
import { interrupted } from "../../errors.ts";

function answer<T>(value: T | symbol): T {
  if (p.isCancel(value)) throw interrupted();
  return value as T;
}

/** A text answer; Enter on an empty prompt is "" (clack gives undefined), never a crash. */
const text = (value: string | undefined | symbol) => (answer(value) ?? "").trim();

const nameRule = (v: string | undefined) =>
  PROJECT_NAME.test(v ?? "")
    ? undefined
    : "1–40 characters of a–z, 0–9, '_' or '-', starting with a letter or digit";

export async function confirmUpdate(existing: string): Promise<boolean> {
  p.note(existing.trimEnd(), "Current .devops-ai/infra.toml");
  return answer(await p.confirm({ message: "Update the existing configuration?", initialValue: false }));
}

export async function confirmWrite(): Promise<boolean> {
  return answer(await p.confirm({ message: "Write these changes?", initialValue: true }));
}

/** Asks every question, starting from `defaults`. */
export async function ask(defaults: InitAnswers, compose?: PortAnalysis): Promise<InitAnswers> {
  p.intro("kinfra init");
  const name = text(
    await p.text({ message: "Project name", initialValue: defaults.name, validate: nameRule }),
  );
  const prefix = text(
    await p.text({
      message: "Worktree prefix",
      initialValue: defaults.prefix === defaults.name ? name : defaults.prefix,
      validate: nameRule,
    }),
  );
  if (!compose || !defaults.composeFile) {
    p.outro(compose ? "" : "No compose file found: worktrees only, no sandbox.");
    return { ...defaults, name, prefix, composeFile: undefined };
  }
  const ports = compose.choices.length
    ? answer(
      await p.multiselect({
        message: "Published ports to give each sandbox its own value for",
        options: compose.choices.map((choice, i) => ({
          value: i,
          label: `${choice.services.join(", ")}: ${choice.source.text}${
            choice.adopt ? ` (adopt \${${choice.adopt}})` : ""
          } — ${choice.source.file}:${choice.source.line}`,
        })),
        initialValues: compose.choices.map((_, i) => i),
        required: false,
      }),
    )
    : [];
  const healthEndpoint = text(
    await p.text({
      message: "Health endpoint (HTTP path answering 2xx when ready; empty for none)",
      initialValue: defaults.healthEndpoint ?? "",
      validate: (v) => !v || v.startsWith("/") ? undefined : "must start with /",
    }),
  ) || undefined;
  const mounts = text(
    await p.text({
      message: "Code mounts, space separated (host:container[:ro], e.g. src/:/app/src)",
      initialValue: defaults.mounts.join(" "),
      validate: (v) =>
        (v ?? "").split(/\s+/).filter(Boolean).map(parseMount).find((m) => typeof m === "string"),
    }),
  ).split(/\s+/).filter(Boolean);
  const codeTargets = mounts.length
    ? answer(
      await p.multiselect({
        message: "Services that receive the code mounts",
        options: compose.services.map((s) => ({ value: s, label: s })),
        // The services built from this project are where its code runs: preselected.
        initialValues: defaults.codeTargets ?? compose.built,
        required: false,
      }),
    )
    : [];
  p.outro("Review the changes below.");
  return { ...defaults, name, prefix, ports, healthEndpoint, mounts, codeTargets };
}
