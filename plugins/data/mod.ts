/**
 * The data plugin (order 30): per-slot data. In `sandbox.prepare` — before `compose up` — a new
 * slot's named volumes are created from a snapshot (`[sandbox.data] seed`, `impl --seed`) or from
 * another slot's current data (`impl --from`); `snapshot.save|list|remove` keep snapshots as
 * volumes labelled with this home's id. The slot's volumes themselves go with the sandbox (the
 * docker plugin's `down -v`; `done --keep-volumes` keeps them). Only the public plugin API.
 */
import {
  definePlugin,
  formatBytes,
  type HookContext,
  KinfraError,
  readSlotCompose,
  slotName,
  type Snapshot,
} from "../../core/hooks/plugin_api.ts";
import {
  copyVolumes,
  createVolume,
  existing,
  listSnapshots,
  removeVolumes,
  sizes,
  slotVolumeLabels,
  slotVolumes,
  snapshotLabels,
  snapshotVolume,
  withStopped,
} from "./volumes.ts";

const usage = (message: string, hint?: string) => new KinfraError(message, { code: 2, hint });

/** Where the new slot's data comes from: each volume key's source volume, and how to say it. */
async function dataSource(ctx: HookContext<"sandbox.prepare">, keys: string[]) {
  const seed = ctx.flags.seed ?? ctx.config?.sandbox?.data.seed;
  if (ctx.flags.fork) {
    const { compose_project: project, worktree } = ctx.flags.fork;
    const names = keys.map((k) => `${project}_${k}`);
    const found = await existing(ctx, names);
    return {
      label: `${worktree}'s current data`,
      project,
      sources: names.map((name) => found.has(name) ? name : undefined),
    };
  }
  if (!seed) return undefined;
  const snapshot = (await listSnapshots(ctx)).find((s) => s.name === seed);
  if (!snapshot) {
    throw usage(
      `No snapshot "${seed}".`,
      "See `kinfra snapshot list`; save one with `kinfra snapshot save`.",
    );
  }
  const sources = keys.map((k) =>
    snapshot.volumes.includes(k) ? snapshotVolume(ctx.homeId, seed, k) : undefined
  );
  return { label: `snapshot ${seed}`, project: undefined, sources };
}

async function seedSlot(ctx: HookContext<"sandbox.prepare">) {
  if (ctx.flags.warm === "take") return; // seeded when it was made warm
  if (!ctx.flags.seed && !ctx.flags.fork && !ctx.config?.sandbox?.data.seed) return;
  const { volumes, skipped } = slotVolumes(
    ctx.model,
    ctx.slot.compose_project,
    ctx.config?.sandbox?.data.volumes,
  );
  const source = await dataSource(ctx, volumes.map((v) => v.key));
  if (!source) return;
  // Each slot volume with its source; those without one start empty.
  const seeded = volumes.flatMap((v, i) => source.sources[i] ? [{ ...v, from: source.sources[i]! }] : []);
  const empty = volumes.filter((_, i) => !source.sources[i]).map((v) => v.key);
  const pairs = seeded.map((v): [string, string] => [v.from, v.name]);
  const created: string[] = [];
  try {
    for (const v of seeded) {
      await createVolume(
        ctx,
        v.name,
        slotVolumeLabels(ctx, ctx.slot.compose_project, v.key, slotName(ctx.project.name, ctx.slot.id)),
      );
      created.push(v.name);
    }
    const what = `Copying ${pairs.length} volume(s) from ${source.label} into slot ${ctx.slot.id}`;
    const copy = () => copyVolumes(ctx, what, pairs);
    const { stopped } = source.project
      ? await withStopped(ctx, source.project, seeded.map((v) => v.from), copy)
      : (await copy(), { stopped: [] as string[] });
    return {
      messages: [
        ...(seeded.length
          ? [`${seeded.map((v) => v.key).join(", ")} from ${source.label}${pause(stopped)}`]
          : []),
        ...empty.map((k) => `${k} starts empty (not in ${source.label})`),
        ...skipped,
      ],
    };
  } catch (e) {
    await removeVolumes(ctx, created);
    throw e;
  }
}

const pause = (stopped: string[]) =>
  stopped.length ? ` (stopped ${stopped.join(", ")} for the copy, started again)` : "";

async function saveSnapshot(ctx: HookContext<"snapshot.save">) {
  const name = ctx.flags.snapshot!;
  if ((await listSnapshots(ctx)).some((s) => s.name === name)) {
    throw usage(
      `Snapshot "${name}" already exists.`,
      `Remove it first (\`kinfra snapshot rm ${name}\`) or pick another name.`,
    );
  }
  const model = (await readSlotCompose(ctx)).doc;
  const { volumes: declared } = slotVolumes(
    model,
    ctx.slot.compose_project,
    ctx.config?.sandbox?.data.volumes,
  );
  const present = await existing(ctx, declared.map((v) => v.name));
  const volumes = declared.filter((v) => present.has(v.name));
  if (!volumes.length) {
    throw usage(
      `${ctx.worktree.path}'s sandbox has no named volumes to save.`,
      "Only named volumes are data; bind mounts are never touched.",
    );
  }
  const snapshot: Snapshot = {
    name,
    volumes: volumes.map((v) => v.key),
    bytes: 0,
    source: ctx.worktree.path,
    project: ctx.slot.compose_project,
    created: new Date().toISOString(),
  };
  const created: string[] = [];
  try {
    const { stopped } = await withStopped(
      ctx,
      ctx.slot.compose_project,
      volumes.map((v) => v.name),
      async () => {
        const bytes = await sizes(ctx, volumes.map((v) => v.name));
        snapshot.bytes = bytes.reduce((a, b) => a + b, 0);
        for (const [i, v] of volumes.entries()) {
          const target = snapshotVolume(ctx.homeId, name, v.key);
          await createVolume(ctx, target, snapshotLabels(ctx, snapshot, v.key, bytes[i]));
          created.push(target);
        }
        await copyVolumes(
          ctx,
          `Saving ${volumes.length} volume(s) as snapshot ${name}`,
          volumes.map((v, i) => [v.name, created[i]]),
        );
      },
    );
    return {
      snapshot,
      messages: [
        `saved ${snapshot.volumes.join(", ")} (${formatBytes(snapshot.bytes)})${
          stopped.length
            ? `; stopped ${stopped.join(", ")} for a consistent copy and started them again`
            : "; nothing was running"
        }`,
      ],
    };
  } catch (e) {
    await removeVolumes(ctx, created);
    throw e;
  }
}

export const dataPlugin = definePlugin({
  name: "data",
  order: 30,
  description: "per-slot data: volumes seeded from snapshots or forked from another slot",
  hooks: {
    "sandbox.prepare": seedSlot,
    "snapshot.save": saveSnapshot,
    "snapshot.list": async (ctx) => ({ snapshots: await listSnapshots(ctx) }),
    "snapshot.remove": async (ctx) => {
      const snapshot = (await listSnapshots(ctx)).find((s) => s.name === ctx.flags.snapshot);
      if (!snapshot) throw usage(`No snapshot "${ctx.flags.snapshot}".`, "See `kinfra snapshot list`.");
      const names = snapshot.volumes.map((k) => snapshotVolume(ctx.homeId, snapshot.name, k));
      await removeVolumes(ctx, names);
      const left = await existing(ctx, names);
      if (left.size) {
        throw new KinfraError(`Could not remove ${[...left].join(", ")} (in use by a container?).`);
      }
      return { removed: names };
    },
  },
});
