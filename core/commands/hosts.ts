/**
 * `kinfra hosts add|list|test|rm`: the remote Docker engines sandboxes may run on. Stored in the
 * home, never in infra.toml.
 */
import type { Context } from "../context.ts";
import { blockedError, Exit, messageOf, usageError } from "../errors.ts";
import type { CommandOutput } from "../io/output.ts";
import { readRegistry } from "../slots/registry.ts";
import { execOnEngine } from "../io/engine.ts";
import { checkHostName, getHost, type Host, LOCAL, readHosts, updateHosts } from "../remote/hosts.ts";
import { onHost } from "../remote/ssh.ts";
import { compareText } from "../text/compare.ts";
import { join } from "../io/path.ts";
import { engineEndpointOf, engineRequest } from "../io/engine_api.ts";
import { showEngine } from "../io/engine_address.ts";
import { describeHost } from "../remote/endpoints.ts";
import { parseBytes } from "../text/bytes.ts";

export interface HostCheck {
  name: string;
  ok: boolean;
  detail: string;
  hint?: string;
}

/** What a host has and lacks: ssh, its engine, compose (run here), rsync, python3; with a hint for each gap. */
export async function checkHost(ctx: Context, host: Host): Promise<HostCheck[]> {
  const checks: HostCheck[] = [];
  if (host.ssh) {
    const probe = await onHost(ctx.exec, host, [
      "sh",
      "-c",
      'printf "home=%s\\n" "$HOME"; for t in docker rsync python3; do command -v $t >/dev/null && echo "has=$t"; done; ' +
      "grep -m1 MemTotal /proc/meminfo 2>/dev/null",
    ]);
    const ssh = probe.code !== 255;
    checks.push({
      name: "ssh",
      ok: ssh,
      detail: ssh
        ? `answers (${host.ssh.destination})`
        : probe.stderr.trim().split("\n").pop() ?? "no answer",
      ...(ssh ? {} : {
        hint: `Check \`ssh ${host.ssh.destination}\` works without a prompt (keys, agent, ssh config).`,
      }),
    });
    if (ssh) {
      const home = /home=(\S+)/.exec(probe.stdout)?.[1];
      if (home?.startsWith("/")) {
        await updateHosts(ctx.home, (f) => {
          if (f.hosts[host.name]) f.hosts[host.name].remote_home = home;
        });
      }
      for (
        const [tool, why] of [["docker", "the docker CLI reaches the engine over ssh through it"], [
          "rsync",
          "the code of remote sandboxes is synced with it",
        ], ["python3", "it relays the UDP ports and carries the traces of remote sandboxes"]]
      ) {
        const has = probe.stdout.includes(`has=${tool}`);
        checks.push({
          name: `${tool} on ${host.name}`,
          ok: has,
          detail: has ? "installed" : "missing",
          ...(has ? {} : { hint: `Install ${tool} on ${host.name}: ${why}.` }),
        });
      }
      const mem = /MemTotal:\s+([0-9]+) kB/.exec(probe.stdout);
      if (mem) {
        checks.push({ name: "memory", ok: true, detail: `${(Number(mem[1]) / 1048576).toFixed(1)} GiB` });
      }
    }
  }
  if (!host.ssh) checks.push(...await apiChecks(host));
  const engine = await execOnEngine(ctx.exec, host.docker_host, host.name)("docker", [
    "version",
    "--format",
    "{{.Server.Version}}",
  ]).catch((e) => ({ success: false, stdout: "", stderr: messageOf(e), code: 1 }));
  checks.push({
    name: "engine",
    ok: engine.success,
    detail: engine.success
      ? `Docker ${engine.stdout.trim()} (${showEngine(host.docker_host)})`
      : engine.stderr.trim().split("\n").pop() ?? "no answer",
    ...(engine.success
      ? {}
      : { hint: `Start Docker on ${host.name}, or check ${showEngine(host.docker_host)}.` }),
  });
  // Compose runs on this machine and talks to the host's engine; only the engine must be there.
  try {
    const c = await ctx.compose();
    checks.push({ name: "compose", ok: true, detail: `${c.command} ${c.version}, runs here` });
  } catch (e) {
    checks.push({
      name: "compose",
      ok: false,
      detail: messageOf(e),
      hint: "Install Docker Compose on this machine.",
    });
  }
  return checks;
}

/**
 * What a tcp:// host (or a context pointing at one) needs: kinfra's own client must reach its
 * engine — the code sync goes through the engine API, so nothing else is needed on the host — and
 * a TLS engine must accept the client certificate. Ports are relayed to the host's address.
 */
async function apiChecks(host: Host): Promise<HostCheck[]> {
  const endpoint = engineEndpointOf(host.docker_host);
  if (!endpoint || "unix" in endpoint) return [];
  const tls = Boolean(endpoint.tls);
  const answer = await engineRequest(endpoint, "GET", "/_ping", { signal: AbortSignal.timeout(5000) })
    .then((a) => a.status === 200 ? undefined : `the engine answered HTTP ${a.status}`, messageOf);
  return [{
    name: tls ? "engine API (TLS)" : "engine API",
    ok: answer === undefined,
    detail: answer === undefined
      ? `${endpoint.hostname}:${endpoint.port} answers${
        tls ? " with the client certificate" : ""
      }; code sync goes through it (nothing to install there); ports are relayed to ${endpoint.hostname}`
      : answer,
    ...(answer === undefined ? {} : {
      hint: tls
        ? `Check the certificates (${endpoint.tls}: ca.pem signs the engine's certificate, cert.pem/key.pem are accepted by it) and that the engine listens with --tlsverify.`
        : `Check that the engine listens on ${endpoint.hostname}:${endpoint.port} (dockerd -H tcp://…).`,
    }),
  }];
}

export async function add(
  ctx: Context,
  options: { name: string; endpoint: string; tlsCerts?: string; memory?: string },
): Promise<CommandOutput> {
  checkHostName(options.name);
  if (options.memory !== undefined && !parseBytes(options.memory)) {
    throw usageError(
      `--memory ${options.memory} is not a size.`,
      'Write it as "8g", "512m" or a number of bytes.',
    );
  }
  if ((await readHosts(ctx.home)).hosts[options.name]) {
    throw usageError(
      `Host "${options.name}" already exists.`,
      `Remove it first (\`kinfra hosts rm ${options.name}\`).`,
    );
  }
  const host = {
    ...await describeHost(ctx, options.name, options.endpoint, options.tlsCerts),
    ...(options.memory !== undefined && { memory: options.memory }),
  };
  await updateHosts(ctx.home, (f) => {
    f.hosts[host.name] = host;
  });
  const checks = await checkHost(ctx, host);
  const failing = checks.filter((c) => !c.ok);
  return {
    data: { host: (await readHosts(ctx.home)).hosts[host.name], checks },
    text: [
      `${ctx.style.green("✓")} Added host ${host.name} (${host.endpoint})`,
      ...renderChecks(ctx, checks),
      failing.length
        ? `  it is recorded, but sandboxes will not start there until the checks pass (kinfra hosts test ${host.name})`
        : `  use it: kinfra impl <feature>/<milestone> --host ${host.name}`,
    ].join("\n"),
  };
}

function renderChecks(ctx: Context, checks: HostCheck[]): string[] {
  return checks.flatMap((c) => [
    `  ${c.ok ? ctx.style.green("✓") : ctx.style.red("✗")} ${c.name}: ${c.detail}`,
    ...(c.hint ? [`    ${c.hint}`] : []),
  ]);
}

export async function list(ctx: Context): Promise<CommandOutput> {
  const [{ hosts }, registry, global] = await Promise.all([
    readHosts(ctx.home),
    readRegistry(ctx.home),
    ctx.globalConfig(),
  ]);
  const fallback = global.sandbox.host ?? LOCAL;
  const rows = Object.values(hosts).sort((a, b) => compareText(a.name, b.name)).map((h) => ({
    ...h,
    sandboxes: Object.values(registry.slots).filter((s) => s.remote?.host === h.name).map((s) => s.slot_id),
    default: fallback === h.name,
  }));
  return {
    data: { default: fallback, hosts: rows },
    text: rows.length
      ? [
        ...rows.map((h) =>
          `${h.name}${h.default ? " (default)" : ""}  ${h.endpoint}  ${h.sandboxes.length} sandbox(es)${
            h.sandboxes.length ? ` (slot ${h.sandboxes.join(", ")})` : ""
          }${h.memory ? `  memory budget ${h.memory}` : ""}`
        ),
        ...(fallback === LOCAL ? ["new sandboxes run locally unless --host is given ([sandbox] host)"] : []),
      ].join("\n")
      : "No hosts. Add one with `kinfra hosts add <name> ssh://user@host`.",
  };
}

export async function test(ctx: Context, options: { name: string }): Promise<CommandOutput> {
  const host = await getHost(ctx.home, options.name);
  const checks = await checkHost(ctx, host);
  const failing = checks.filter((c) => !c.ok);
  return {
    exitCode: failing.length ? Exit.environment : Exit.ok,
    data: { host: host.name, ok: failing.length === 0, checks },
    text: [`${host.name} (${host.endpoint})`, ...renderChecks(ctx, checks)].join("\n"),
  };
}

export async function rm(ctx: Context, options: { name: string }): Promise<CommandOutput> {
  const host = await getHost(ctx.home, options.name);
  const used = Object.values((await readRegistry(ctx.home)).slots).filter((s) =>
    s.remote?.host === host.name
  );
  if (used.length) {
    throw blockedError(
      `Host "${host.name}" still runs ${used.length} sandbox(es): slot ${
        used.map((s) => s.slot_id).join(", ")
      }.`,
      "Stop them first (`kinfra down` / `kinfra done`).",
    );
  }
  await updateHosts(ctx.home, (f) => {
    delete f.hosts[host.name];
  });
  // The certificates `hosts add` copied for it (a context's stay in the docker context store).
  await Deno.remove(join(ctx.home.root, "tls", host.name), { recursive: true }).catch(() => {});
  return { data: { removed: host.name }, text: `${ctx.style.green("✓")} Removed host ${host.name}` };
}
