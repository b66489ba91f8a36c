/**
 * Names: the feature/milestone rule, `impl`'s target, the short name a worktree goes by, its
 * directory and branch, and which worktree a name means (find_worktree's matching, from a registry
 * file in a temp home; the project and git are stand-ins).
 */
import assert from "node:assert/strict";
import type { Context } from "../../../core/context.ts";
import { homePaths } from "../../../core/io/home.ts";
import { findWorktree } from "../../../core/project/find_worktree.ts";
import { parseImplTarget, validateName, worktreeName } from "../../../core/project/names.ts";
import type { Project } from "../../../core/project/project.ts";
import { worktreeLayout } from "../../../core/project/worktrees.ts";
import type { WorktreeEntry } from "../../../core/slots/registry.ts";
import { kinfraErrorOf, usageOf } from "../_usage.ts";
import { usageError } from "../../../core/errors.ts";

Deno.test("validateName() accepts letters, digits, '.', '_' and '-' and returns the name", () => {
  for (const ok of ["wellness-reminders", "M1", "v1.2", "a_b", "9lives"]) {
    assert.equal(validateName("feature", ok), ok);
  }
});

Deno.test("validateName() accepts 64 characters and refuses 65", () => {
  assert.equal(validateName("milestone", "x".repeat(64)), "x".repeat(64));
  assert.match(usageOf(() => validateName("milestone", "x".repeat(65))), /^Invalid milestone name/);
});

Deno.test("validateName() refuses a name starting with '.', '-' or '_'", () => {
  for (const bad of [".x", "-x", "_x"]) {
    assert.match(usageOf(() => validateName("feature", bad)), /^Invalid/, bad);
  }
});

Deno.test("validateName() refuses '..' anywhere, which git refuses in a branch", () => {
  assert.match(usageOf(() => validateName("feature", "a..b")), /^Invalid feature name "a\.\.b"\./);
});

Deno.test("validateName() refuses a name ending in '.' or '.lock'", () => {
  assert.match(usageOf(() => validateName("feature", "x.")), /^Invalid/);
  assert.match(usageOf(() => validateName("feature", "x.lock")), /^Invalid/);
});

Deno.test("validateName() refuses the empty name, slashes, spaces and path tricks", () => {
  for (const bad of ["", "a/b", "a b", "../x", "a\nb"]) {
    assert.match(usageOf(() => validateName("feature", bad)), /^Invalid feature name/, JSON.stringify(bad));
  }
});

Deno.test("validateName()'s refusal states the rule in its hint", () => {
  assert.equal(
    usageOf(() => validateName("milestone", "a b")),
    "Invalid milestone name \"a b\". | A milestone name is 1–64 characters: letters, digits, '.', '_' or '-', " +
      'starting with a letter or digit; it must not contain "..", or end in "." or ".lock".',
  );
});

Deno.test("parseImplTarget() splits feature/milestone", () => {
  assert.deepEqual(parseImplTarget("checkout/M1"), { feature: "checkout", milestone: "M1" });
});

Deno.test("parseImplTarget() refuses a target without exactly one slash, with an example", () => {
  for (const bad of ["checkout", "a/b/c"]) {
    assert.equal(
      usageOf(() => parseImplTarget(bad)),
      `Invalid target "${bad}": expected <feature>/<milestone>. | Example: kinfra impl wellness-reminders/M1`,
    );
  }
});

Deno.test("parseImplTarget() validates the milestone as a name", () => {
  assert.match(usageOf(() => parseImplTarget("checkout/M1.lock")), /^Invalid milestone name "M1\.lock"/);
});

Deno.test("worktreeName() joins feature and milestone with '-'", () => {
  assert.equal(worktreeName({ feature: "checkout", milestone: "M1" }), "checkout-M1");
});

Deno.test("worktreeName() is the feature alone without a milestone", () => {
  assert.equal(worktreeName({ feature: "hand-M1" }), "hand-M1");
  assert.equal(worktreeName({ feature: "ideas", milestone: "" }), "ideas");
});

const PROJECT: Project = {
  root: "/src/shop",
  gitRoot: "/src/shop",
  name: "shop",
  prefix: "sh",
  worktreeRoot: "/src",
};

Deno.test("worktreeLayout() puts a spec worktree on spec/<feature> in <prefix>-spec-<feature>", () => {
  assert.deepEqual(worktreeLayout(PROJECT, { kind: "spec", feature: "ideas" }), {
    path: "/src/sh-spec-ideas",
    branch: "spec/ideas",
  });
});

Deno.test("worktreeLayout() puts an impl worktree on impl/<f>-<m> in <prefix>-impl-<f>-<m>", () => {
  assert.deepEqual(worktreeLayout(PROJECT, { kind: "impl", feature: "pay", milestone: "M2" }), {
    path: "/src/sh-impl-pay-M2",
    branch: "impl/pay-M2",
  });
});

// findWorktree: a registry of two projects' worktrees in a temp home.

function entry(project: string, kind: "spec" | "impl", feature: string, milestone?: string): WorktreeEntry {
  const name = worktreeName({ feature, milestone });
  return {
    path: `/src/${project}-${kind}-${name}`,
    kind,
    project,
    project_root: `/src/${project}`,
    feature,
    ...(milestone ? { milestone } : {}),
    branch: `${kind}/${name}`,
    base: "main",
    created_at: "2026-01-01T00:00:00Z",
  };
}

const ENTRIES = [
  entry("shop", "impl", "pay", "M1"),
  entry("shop", "spec", "ideas"),
  entry("blog", "impl", "pay", "M1"),
  entry("blog", "impl", "tags", "M1"),
  entry("blog", "impl", "tags", "M2"),
];

/** Runs `findWorktree(name)` over ENTRIES, from inside `project` (a root) or from outside any. */
async function find(name: string, project?: string): Promise<WorktreeEntry> {
  const dir = await Deno.makeTempDir();
  try {
    const home = homePaths({ get: (k) => k === "KINFRA_HOME" ? dir : undefined });
    const worktrees = Object.fromEntries(ENTRIES.map((e) => [e.path, e]));
    await Deno.writeTextFile(home.registry, JSON.stringify({ version: 1, slots: {}, worktrees }));
    const ctx = {
      home,
      cwd: dir,
      project: () =>
        project
          ? Promise.resolve({ ...PROJECT, root: project, gitRoot: project })
          : Promise.reject(usageError("not inside a git repository")),
      git: { listWorktrees: () => Promise.resolve([]) },
    } as unknown as Context;
    return await findWorktree(ctx, name);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("findWorktree() finds a worktree by its directory name", async () => {
  assert.equal((await find("shop-impl-pay-M1")).path, "/src/shop-impl-pay-M1");
});

Deno.test("findWorktree() finds an impl worktree by feature-milestone and by feature/milestone", async () => {
  assert.equal((await find("tags-M2")).path, "/src/blog-impl-tags-M2");
  assert.equal((await find("tags/M2")).path, "/src/blog-impl-tags-M2");
});

Deno.test("findWorktree() finds a spec worktree by its feature", async () => {
  assert.equal((await find("ideas")).path, "/src/shop-spec-ideas");
});

Deno.test("findWorktree() inside a project prefers that project's worktree of a shared name", async () => {
  assert.equal((await find("pay-M1", "/src/blog")).project, "blog");
  assert.equal((await find("pay-M1", "/src/shop")).project, "shop");
});

Deno.test("findWorktree() outside a project refuses a name two projects share, listing both", async () => {
  const e = await kinfraErrorOf(() => find("pay-M1"));
  assert.equal(e.code, 2);
  assert.equal(e.message, '"pay-M1" matches 2 worktrees.');
  assert.deepEqual(e.details, [
    "shop-impl-pay-M1  (shop, impl/pay-M1)",
    "blog-impl-pay-M1  (blog, impl/pay-M1)",
  ]);
});

Deno.test("findWorktree() takes a bare feature for its only impl worktree", async () => {
  assert.equal((await find("pay", "/src/shop")).path, "/src/shop-impl-pay-M1");
});

Deno.test("findWorktree() refuses a bare feature with several impl worktrees", async () => {
  assert.equal((await kinfraErrorOf(() => find("tags"))).message, '"tags" matches 2 worktrees.');
});

Deno.test("findWorktree() says no worktree matches an unknown name, and how to list them", async () => {
  const e = await kinfraErrorOf(() => find("nope", "/src/shop"));
  assert.deepEqual([e.code, e.message, e.hint], [
    2,
    'No kinfra worktree matches "nope".',
    "`kinfra worktrees` lists them; pass a name or run inside the worktree.",
  ]);
});

Deno.test("findWorktree() quotes an unknown name as data: control characters are escaped, not sent to the terminal", async () => {
  const e = await kinfraErrorOf(() => find("x\u001b[31mred", "/src/shop"));
  assert.equal(e.message, 'No kinfra worktree matches "x\\u001b[31mred".');
});
