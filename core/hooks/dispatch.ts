/**
 * The hook dispatcher (docs/plugins.md, "Events"). Setup events run plugins in ascending order and stop at the first
 * error; teardown events run in descending order, report errors and go on; observation events
 * collect from everyone. Rollback pairs each setup event with the teardown event that undoes it.
 */
import { bugHint, Exit, failureMessage, isBug, KinfraError, messageOf } from "../errors.ts";
import type { ComposeTool } from "../compose/tool.ts";
import type { GlobalConfig } from "../project/config/schema.ts";
import type { Exec } from "../io/exec.ts";
import type { Logger } from "../io/output.ts";
import { execOnEngine } from "../io/engine.ts";
import type { Rollback } from "./rollback.ts";
import {
  type CommandEvent,
  ENV_EVENTS,
  type EventInput,
  type EventMap,
  type EventName,
  type HookContext,
  type HookInput,
  type ObservationEvent,
  type Plugin,
  type PrepareResult,
  RUNTIME_EVENTS,
  type SetupEvent,
  SLOT_EVENTS,
  type TeardownEvent,
} from "./plugin_api.ts";
import { compareText } from "../text/compare.ts";

/** The teardown event that undoes each setup event, for rollback. */
export const UNDO: Partial<Record<SetupEvent, TeardownEvent>> = {
  "worktree.created": "worktree.removed",
  "slot.claimed": "slot.released",
  "sandbox.start": "sandbox.stop",
};

export interface Reply<E extends EventName> {
  plugin: string;
  result: EventMap[E];
}

/** What a setup event gives back: the replies, and the input the next event gets (env and state added). */
export interface Setup<E extends EventName, I extends HookInput> {
  replies: Reply<E>[];
  input: I;
}

export interface Failure {
  plugin: string;
  event: EventName;
  message: string;
}

export interface HookEnvironment {
  log: Logger;
  exec: Exec;
  signal: AbortSignal;
  home: string;
  homeId: string;
  compose: () => Promise<ComposeTool>;
  global: GlobalConfig;
  /** DOCKER_HOST for events about a remote host's engine as a whole (`runtime.scan`, `sandbox.purge`). */
  dockerHost?: string;
  /** That host's name in `kinfra hosts`, for messages. */
  hostName?: string;
}

/** A variable name, as `.env.sandbox` and POSIX shells accept it. */
export const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Control characters other than tab would end a line of .env.sandbox (and an `export` line).
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * A plugin's `env` is data for `.env.sandbox` and `kinfra env`: names must be variable names,
 * values one line of text, and the slot's own variables (its ports, its compose project) are the
 * core's — no plugin may change them.
 */
function checkEnv(plugin: string, event: string, env: Record<string, string>, input: HookInput): void {
  const refuse = (why: string) =>
    new KinfraError(`Plugin "${plugin}" failed during ${event}: ${why}`, {
      hint: "Fix the plugin's reply: env keys match ^[A-Za-z_][A-Za-z0-9_]*$ and values are one line.",
    });
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_KEY.test(key)) throw refuse(`env key ${JSON.stringify(key)} is not a variable name.`);
    if (typeof value !== "string" || CONTROL.test(value)) {
      throw refuse(`env ${key} has a control character (such as a newline) in its value.`);
    }
    if (key === "COMPOSE_PROJECT_NAME" || key in input.ports) {
      throw refuse(`env ${key} is the slot's own variable; plugins cannot change it.`);
    }
  }
}

/** The `messages` of every reply, in order. */
/** Plugins' messages, each as `<plugin>: <message>` (one style, whoever wrote the plugin). */
export function messagesOf(replies: { plugin: string; result: { messages?: string[] } }[]): string[] {
  return replies.flatMap((r) =>
    (r.result.messages ?? []).map((m) => m.startsWith(`${r.plugin}: `) ? m : `${r.plugin}: ${m}`)
  );
}

/**
 * `env` after `sandbox.prepare` can no longer reach `.env.sandbox` or compose, and `compose` is
 * merged only from `sandbox.prepare`: either anywhere else is a plugin's mistake, said as one.
 */
function checkPlacement(plugin: string, event: EventName, reply: PrepareResult): void {
  const misplaced = reply.env && !(ENV_EVENTS as readonly string[]).includes(event)
    ? ["env", "sandbox.prepare or earlier (worktree.created, slot.claimed)"]
    : reply.compose && event !== "sandbox.prepare"
    ? ["compose", "sandbox.prepare"]
    : undefined;
  if (misplaced) {
    throw new KinfraError(
      `Plugin "${plugin}" returned "${misplaced[0]}" during ${event}, where it would be lost.`,
      { hint: `Return "${misplaced[0]}" from ${misplaced[1]}.` },
    );
  }
}

/** A plugin's error as the step's: named, with its exit code, hint and details kept. */
function pluginFailure(plugin: Plugin, event: EventName, e: unknown): KinfraError {
  return new KinfraError(`Plugin "${plugin.name}" failed during ${event}: ${failureMessage(e)}`, {
    code: e instanceof KinfraError ? e.code : Exit.failed,
    hint: e instanceof KinfraError ? e.hint : isBug(e) ? bugHint(`the plugin "${plugin.name}"`) : undefined,
    details: e instanceof KinfraError ? e.details : [],
    cause: e,
  });
}

export class Hooks {
  readonly plugins: Plugin[];

  constructor(plugins: Plugin[], private readonly environment: HookEnvironment) {
    this.plugins = plugins.toSorted((a, b) =>
      (a.order ?? 50) - (b.order ?? 50) || compareText(a.name, b.name)
    );
  }

  /** The same dispatcher, talking to the engine at `dockerHost` (a remote host's) for every event. */
  onEngine(dockerHost: string | undefined, hostName?: string): Hooks {
    return new Hooks(this.plugins, { ...this.environment, dockerHost, hostName });
  }

  /** The same dispatcher over the plugins `keep` accepts (say, the built-in ones for a dry run). */
  only(keep: (plugin: Plugin) => boolean): Hooks {
    return new Hooks(this.plugins.filter(keep), this.environment);
  }

  /**
   * Runs a setup event in ascending order. Each plugin sees the env collected so far; the first
   * error is thrown as a KinfraError naming the plugin. With a rollback, the event's undo (see
   * UNDO) is registered first, so plugins that succeeded before a failing one are undone too.
   */
  async setup<E extends SetupEvent, I extends HookInput & EventInput<E>>(
    event: E,
    input: I,
    rollback?: Rollback,
  ): Promise<Setup<E, I>> {
    let current = input;
    const undo = UNDO[event];
    if (rollback && undo) rollback.add(undo, () => this.teardown(undo, current));
    const replies = await this.inOrder(event, () => current, (plugin, result) => {
      const { env, compose } = result as PrepareResult;
      checkPlacement(plugin, event, { env, compose });
      if (env) checkEnv(plugin, event, env, current);
      const state = result.state
        ? { ...current.state, [plugin]: { ...current.state[plugin], ...result.state } }
        : current.state;
      current = { ...current, env: { ...current.env, ...env }, state };
    });
    return { replies, input: current };
  }

  /** Runs a teardown event in descending order; every plugin runs, failures are logged and returned. */
  async teardown<E extends TeardownEvent>(
    event: E,
    input: HookInput,
  ): Promise<{ replies: Reply<E>[]; failures: Failure[] }> {
    return await this.each(event, input, this.handling(event).toReversed(), true);
  }

  /**
   * Runs a command's event (`kinfra snapshot …`) in ascending order; the first failure is thrown
   * naming the plugin, as the command's own error.
   */
  async command<E extends CommandEvent>(event: E, input: HookInput & EventInput<E>): Promise<Reply<E>[]> {
    return await this.inOrder(event, () => input);
  }

  /** Calls each plugin handling `event`, ascending; `each` sees every reply; the first failure is thrown. */
  private async inOrder<E extends EventName>(
    event: E,
    input: () => HookInput,
    each: (plugin: string, result: EventMap[E]) => void = () => {},
  ): Promise<Reply<E>[]> {
    const replies: Reply<E>[] = [];
    for (const plugin of this.handling(event)) {
      let result: EventMap[E] | void;
      try {
        result = await this.call(plugin, event, input());
      } catch (e) {
        throw pluginFailure(plugin, event, e);
      }
      if (result) {
        each(plugin.name, result);
        replies.push({ plugin: plugin.name, result });
      }
    }
    return replies;
  }

  /** Runs an observation event (`status`, `doctor`, `runtime.scan`) on every plugin, collecting failures. */
  async observe<E extends ObservationEvent>(
    event: E,
    input: HookInput,
  ): Promise<{ replies: Reply<E>[]; failures: Failure[] }> {
    return await this.each(event, input, this.handling(event), false);
  }

  /**
   * Runs every in-process plugin's `watch` until `signal` aborts; `changed` is called on each change
   * they see. A watch that fails is logged and ends; the caller's periodic refresh still runs.
   */
  async watch(signal: AbortSignal, changed: () => void): Promise<void> {
    const { log, exec, home, homeId, global } = this.environment;
    await Promise.all(
      this.plugins.filter((p) => p.watch).map((p) =>
        p.watch!({ signal, log: log.child(p.name), exec, home, homeId, global }, changed).catch((e) =>
          log.debug(`${p.name}: watching stopped: ${messageOf(e)}`)
        )
      ),
    );
  }

  private async each<E extends EventName>(event: E, input: HookInput, plugins: Plugin[], warn: boolean) {
    const replies: Reply<E>[] = [];
    const failures: Failure[] = [];
    for (const plugin of plugins) {
      try {
        const result = await this.call(plugin, event, input);
        if (result) replies.push({ plugin: plugin.name, result });
      } catch (e) {
        failures.push({ plugin: plugin.name, event, message: failureMessage(e) });
        if (warn) {
          this.environment.log.warn(`Plugin "${plugin.name}" failed during ${event}: ${failureMessage(e)}`);
        }
        if (isBug(e)) this.environment.log.debug((e as Error).stack ?? String(e));
      }
    }
    return { replies, failures };
  }

  private handling(event: EventName): Plugin[] {
    return this.plugins.filter((p) => p.hooks[event]);
  }

  private async call<E extends EventName>(plugin: Plugin, event: E, input: HookInput) {
    const { log, exec, signal, home, homeId, compose, global } = this.environment;
    const config = input.config?.plugins[plugin.name];
    if ((SLOT_EVENTS as readonly string[]).includes(event) && (!input.slot || !input.worktree)) {
      throw new Error(`${event} was dispatched without a slot and a worktree.`);
    }
    if (
      event === "sandbox.purge" ? !input.slot : !input.project && !RUNTIME_EVENTS.includes(event as never)
    ) {
      throw new Error(
        `${event} was dispatched without ${event === "sandbox.purge" ? "a slot" : "a project"}.`,
      );
    }
    // A remote slot's (or host's) engine: every subprocess of the handler gets its DOCKER_HOST.
    const dockerHost = input.slot?.remote?.docker_host ?? this.environment.dockerHost;
    const hostName = input.slot?.remote?.host ?? this.environment.hostName;
    const ctx = {
      ...input,
      state: input.state[plugin.name] ?? {},
      event,
      pluginConfig: (config ?? {}) as Record<string, unknown>,
      signal,
      log: log.child(plugin.name),
      exec: dockerHost ? execOnEngine(exec, dockerHost, hostName) : exec,
      dockerHost,
      home,
      homeId,
      compose,
      global,
    } as HookContext<E>;
    return await plugin.hooks[event]!(ctx);
  }
}
