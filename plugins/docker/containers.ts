/**
 * The docker plugin's Compose and Docker calls: one slot's containers (up, down, list), removal by
 * label, and the engine-wide scan of compose projects. Always absolute paths; teardown uses
 * the slot directory's copies and falls back to labels when they are gone. Whatever is
 * removed by label must carry this home's id (HOME_LABEL): nothing else is ever touched.
 */
import {
  compareText,
  type ComposeTool,
  type Exec,
  HOME_LABEL,
  KinfraError,
  runCompose,
  slotFiles,
  tail,
} from "../../core/hooks/plugin_api.ts";

import { engineGet, filters } from "./engine.ts";

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

export interface SlotFiles {
  /** The compose file `up` uses (the worktree's) or `down` uses (the slot dir's copy). */
  composeFile: string;
  override: string;
  /**
   * `--env-file`, for teardown only: with the worktree's file, Compose must read the project's own
   * `.env` (which `--env-file` would replace), and kinfra's variables come through the environment.
   */
  envFile?: string;
  project: string;
}

/** The slot directory's own copies, for teardown. */
export function slotCopies(slotDir: string, project: string): SlotFiles {
  return {
    composeFile: slotFiles(slotDir).compose,
    override: slotFiles(slotDir).override,
    envFile: slotFiles(slotDir).env,
    project,
  };
}

/** `-f <file> -f <override> [--env-file <env>] -p <project> <args…>`: compose's arguments for a slot. */
export function slotArgs(files: SlotFiles, args: string[]): string[] {
  return [
    ...["-f", files.composeFile, "-f", files.override],
    ...(files.envFile ? ["--env-file", files.envFile] : []),
    ...["-p", files.project, ...args],
  ];
}

export interface DownOptions {
  /** Also remove the slot's named volumes (on `done`; `kinfra down` keeps them). */
  volumes: boolean;
  /** This home's id: the label-based fallback removes only objects carrying it. */
  homeId: string;
  /** Variables that must win over the caller's environment when compose interpolates. */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Stops and removes a slot's containers and networks. Uses the slot dir's copies when present,
 * otherwise (or if compose fails) removes what carries this home's label and the compose project.
 * Returns how it was done.
 */
export async function stopSlotContainers(
  exec: Exec,
  tool: ComposeTool,
  slotDir: string,
  project: string,
  options: DownOptions,
): Promise<"compose" | "labels"> {
  const files = slotCopies(slotDir, project);
  if (await exists(files.composeFile) && await exists(files.override) && await exists(files.envFile!)) {
    const args = slotArgs(files, ["down", "--remove-orphans", ...(options.volumes ? ["-v"] : [])]);
    const result = await runCompose(exec, tool, args, { cwd: slotDir, env: options.env });
    if (result.success) return "compose";
  }
  await removeByLabel(exec, project, options.volumes, options.homeId);
  return "labels";
}

const label = (project: string) => `label=com.docker.compose.project=${project}`;
const homeFilter = (homeId: string) => `label=${HOME_LABEL}=${homeId}`;

/**
 * Removes every container, network (and optionally volume) of a compose project that carries this
 * home's label. Objects without it — another home's, or a look-alike stack — are never touched.
 */
export async function removeByLabel(
  exec: Exec,
  project: string,
  volumes: boolean,
  homeId: string,
): Promise<void> {
  const filters = ["--filter", label(project), "--filter", homeFilter(homeId)];
  const ids = async (args: string[]) =>
    (await dockerOk(exec, [...args, ...filters])).split("\n").filter(Boolean);
  const containers = await ids(["ps", "-aq"]);
  if (containers.length) await dockerOk(exec, ["rm", "-f", "-v", ...containers]);
  const networks = await ids(["network", "ls", "-q"]);
  if (networks.length) await dockerOk(exec, ["network", "rm", ...networks]);
  if (volumes) {
    const vols = await ids(["volume", "ls", "-q"]);
    if (vols.length) await dockerOk(exec, ["volume", "rm", "-f", ...vols]);
  }
}

/** The named volumes of a compose project that carry this home's label. */
export async function projectVolumes(exec: Exec, project: string, homeId: string): Promise<string[]> {
  const out = await dockerOk(exec, [
    "volume",
    "ls",
    "-q",
    "--filter",
    label(project),
    "--filter",
    homeFilter(homeId),
  ]);
  return out.split("\n").filter(Boolean).sort();
}

export interface ContainerState {
  name: string;
  service: string;
  state: string;
  status: string;
  ports: string;
}

interface ApiContainer {
  Names: string[];
  Labels: Record<string, string> | null;
  State: string;
  Status: string;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
}

/** Ports as `docker ps` prints them: `0.0.0.0:8081->8080/tcp, 9000/tcp`. */
const portsText = (ports: ApiContainer["Ports"]) =>
  ports.map((p) =>
    p.PublicPort ? `${p.IP ?? ""}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`
  ).join(", ");

/** The containers of a compose project, from Docker's labels (the same for Compose v1 and v2). */
export async function listContainers(
  exec: Exec,
  project: string,
  dockerHost?: string,
): Promise<ContainerState[]> {
  const api = await engineGet<ApiContainer[]>(
    `/containers/json?all=1&${filters({ label: [`com.docker.compose.project=${project}`] })}`,
    dockerHost,
  );
  if (api) {
    return api.map((c) => ({
      name: c.Names[0]?.replace(/^\//, "") ?? "",
      service: c.Labels?.["com.docker.compose.service"] ?? "",
      state: c.State,
      status: c.Status,
      ports: portsText(c.Ports),
    })).sort((a, b) => compareText(a.service, b.service));
  }
  const out = await dockerOk(exec, [
    "ps",
    "-a",
    "--filter",
    label(project),
    "--format",
    '{{.Names}}\t{{.Label "com.docker.compose.service"}}\t{{.State}}\t{{.Status}}\t{{.Ports}}',
  ]);
  return out.split("\n").filter(Boolean).map((line) => {
    const [name, service, state, status, ports] = line.split("\t");
    return { name, service, state, status, ports };
  }).sort((a, b) => compareText(a.service, b.service));
}

/** Compose projects on the engine, split into this home's and everybody else's. */
export interface DockerProjects {
  /** Projects with objects carrying this home's label. */
  ours: Set<string>;
  /** Projects with objects that do not carry it (another home's, or not kinfra's at all). */
  foreign: Set<string>;
}

/** Every compose project with containers, networks or volumes, by whose they are (one call each). */
export async function dockerProjects(
  exec: Exec,
  homeId: string,
  dockerHost?: string,
): Promise<DockerProjects> {
  const query = filters({ label: ["com.docker.compose.project"] });
  type Labelled = { Labels: Record<string, string> | null };
  const api = await Promise.all([
    engineGet<Labelled[]>(`/containers/json?all=1&${query}`, dockerHost),
    engineGet<Labelled[]>(`/networks?${query}`, dockerHost),
    engineGet<{ Volumes: Labelled[] | null }>(`/volumes?${query}`, dockerHost).then((v) =>
      v && (v.Volumes ?? [])
    ),
  ]);
  if (api.every(Boolean)) {
    const projects: DockerProjects = { ours: new Set(), foreign: new Set() };
    for (const { Labels } of api.flat() as Labelled[]) {
      const project = Labels?.["com.docker.compose.project"];
      if (project) (Labels?.[HOME_LABEL] === homeId ? projects.ours : projects.foreign).add(project);
    }
    return projects;
  }
  const format = ["--format", `{{.Label "com.docker.compose.project"}}\t{{.Label "${HOME_LABEL}"}}`];
  const filter = ["--filter", "label=com.docker.compose.project"];
  const lists = await Promise.all([
    dockerOk(exec, ["ps", "-a", ...filter, ...format]),
    dockerOk(exec, ["network", "ls", ...filter, ...format]),
    dockerOk(exec, ["volume", "ls", ...filter, ...format]),
  ]);
  const projects: DockerProjects = { ours: new Set(), foreign: new Set() };
  for (const line of lists.join("\n").split("\n").filter(Boolean)) {
    const [project, home] = line.split("\t");
    if (project) (home === homeId ? projects.ours : projects.foreign).add(project);
  }
  return projects;
}

async function dockerOk(exec: Exec, args: string[]): Promise<string> {
  const result = await exec("docker", args);
  if (!result.success) {
    throw new KinfraError(`docker ${args.slice(0, 2).join(" ")} failed (exit ${result.code}).`, {
      details: tail(result.stderr, 5),
    });
  }
  return result.stdout;
}
