/** `kinfra observability up|down|status`: the shared Jaeger + Prometheus + Grafana stack. */
import type { Context } from "../context.ts";
import {
  endpoints,
  networkUsers,
  stackContainers,
  stackDown,
  stackNames,
  stackUp,
} from "../sandbox/observability.ts";
import type { CommandOutput } from "../io/output.ts";

export async function up(ctx: Context): Promise<CommandOutput> {
  ctx.log.step("Starting the shared observability stack");
  await stackUp(ctx);
  return await status(ctx, "✓ Observability stack is up");
}

export async function down(ctx: Context): Promise<CommandOutput> {
  const { networkRemoved, networkUsers } = await stackDown(ctx);
  const { network } = await stackNames(ctx);
  return {
    data: { stopped: true, network_removed: networkRemoved, network_users: networkUsers },
    text: [
      `${ctx.style.green("✓")} Observability stack stopped.`,
      networkRemoved
        ? `  network ${network} removed`
        : `  network ${network} kept: still used by ${networkUsers.join(", ")}`,
    ].join("\n"),
  };
}

export async function status(ctx: Context, title = "Observability stack"): Promise<CommandOutput> {
  const config = (await ctx.globalConfig()).observability;
  const names = await stackNames(ctx);
  const [containers, urls, users, network] = await Promise.all([
    stackContainers(ctx),
    endpoints(config),
    networkUsers(ctx),
    ctx.exec("docker", ["network", "inspect", names.network]).then((r) => r.success),
  ]);
  const sandboxes = users.filter((u) => !u.startsWith(names.prefix));
  return {
    data: {
      project: names.project,
      network: { name: names.network, exists: network, sandboxes },
      containers,
      endpoints: urls,
      jaeger_host: names.jaeger,
    },
    text: [
      title,
      ...(containers.length
        ? containers.map((c) => `  ${c.service.padEnd(10)} ${c.state} (${c.status})`)
        : ["  not running (kinfra observability up)"]),
      ...urls.map((e) =>
        `  ${e.name.padEnd(10)} ${e.url}  ${
          e.answers ? ctx.style.green("answers") : ctx.style.yellow("no answer")
        }`
      ),
      `  network ${names.network}: ${
        network ? `${sandboxes.length} sandbox container(s) attached` : "missing"
      }`,
    ].join("\n"),
  };
}
