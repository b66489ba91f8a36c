/**
 * The compose model cache against the real `compose config`: a second checkout of the same project
 * is served from the cache and equals what Compose prints for it, and every input Compose reads
 * (the file, `.env`, an `env_file`, a variable from the environment, the slot's values) is part of
 * the key.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeContext } from "../core/make_context.ts";
import type { Exec } from "../core/io/exec.ts";
import { exec as realExec } from "../core/io/exec.ts";
import { resolveSlot } from "../core/compose/slot_compose.ts";
import { assertDocker, needsDocker, withSandbox, writeFiles } from "./helpers.ts";

const COMPOSE = `services:
  web:
    image: kinfra-test/busybox:latest
    env_file: app.env
    environment:
      GREETING: \${GREETING:-hello}
      FROM_DOTENV: \${FROM_DOTENV}
    volumes:
      - ./data:/data
      - ../shared:/shared
    ports:
      - "\${MC_WEB_PORT:-8080}:80"
`;

Deno.test({
  name: "compose models are cached by every input and relocated to the checkout that asks",
  ...needsDocker(),
  fn: () =>
    withSandbox(async (sb) => {
      assertDocker();
      const checkout = async (name: string) => {
        const root = join(sb.dir, name);
        await writeFiles(root, {
          "docker-compose.yml": COMPOSE,
          "app.env": "APP_MODE=test\n",
          ".env": "FROM_DOTENV=dot\n",
        });
        return root;
      };
      const [first, second] = [await checkout("one"), await checkout("two")];
      const env = new Map([["KINFRA_HOME", sb.home], ["PATH", Deno.env.get("PATH")!]]);
      let configs: number = 0;
      const counting: Exec = (cmd, args, options) => {
        if (args.includes("config")) configs++;
        return realExec(cmd, args, options);
      };
      const resolve = (root: string, port = 8081, environment = env) =>
        resolveSlot(makeContext({ cwd: root, env: environment, exec: counting }), {
          dir: root,
          file: "docker-compose.yml",
          project: "mc-slot-1",
          vars: { MC_WEB_PORT: port },
        });

      const a = await resolve(first);
      assert.equal(configs, 1);
      const b = await resolve(second);
      assert.equal(configs, 1, "the second checkout is served from the cache");
      const web = (m: typeof b) => (m.model.doc.services as Record<string, Record<string, unknown>>).web;
      assert.ok(JSON.stringify(web(b).volumes).includes(join(second, "data")), JSON.stringify(web(b)));
      assert.ok(!JSON.stringify(web(b)).includes(first), "nothing of the first checkout's path is left");
      assert.notDeepEqual(web(a).volumes, web(b).volumes);

      // What Compose itself prints for the second checkout, with the cache out of the way.
      await Deno.remove(join(sb.home, "cache"), { recursive: true });
      const fresh = await resolve(second);
      assert.equal(configs, 2);
      assert.deepEqual(b.model.doc, fresh.model.doc);

      // Each input Compose reads is in the key: after changing it, Compose is asked again.
      const write = (file: string, text: string) => () => Deno.writeTextFile(join(second, file), text);
      const changes: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
        ["env_file", write("app.env", "APP_MODE=prod\n"), () => resolve(second)],
        [".env", write(".env", "FROM_DOTENV=other\n"), () => resolve(second)],
        ["compose file", write("docker-compose.yml", COMPOSE + "# edit\n"), () => resolve(second)],
        ["slot values", () => Promise.resolve(), () => resolve(second, 8082)],
        // Compose reads the process environment; the context's is what kinfra keys on: the same here.
        ["environment", () =>
          Promise.resolve(Deno.env.set("GREETING", "hi")), () =>
          resolve(second, 8081, greeting)],
      ];
      const greeting = new Map([...env, ["GREETING", "hi"]]);
      for (const [what, change, again] of changes) {
        const before: number = configs;
        await change();
        await again();
        assert.equal(configs, before + 1, `${what} changed: Compose is asked again`);
        await again();
        assert.equal(configs, before + 1, `${what} unchanged since: served from the cache`);
      }
      const env_ = web(await resolve(second, 8081, greeting)).environment;
      Deno.env.delete("GREETING");
      assert.equal((env_ as Record<string, string>).GREETING, "hi");
      assert.equal((env_ as Record<string, string>).APP_MODE, "prod");
      assert.equal((env_ as Record<string, string>).FROM_DOTENV, "other");
    }),
});

Deno.test({
  name: "a new slot's model is derived from the project's template once two slots proved it",
  ...needsDocker(),
  fn: () =>
    withSandbox(async (sb) => {
      assertDocker();
      const env = new Map([["KINFRA_HOME", sb.home], ["PATH", Deno.env.get("PATH")!]]);
      let configs = 0;
      const counting: Exec = (cmd, args, options) => {
        if (args.includes("config")) configs++;
        return realExec(cmd, args, options);
      };
      const project = async (name: string, extra: string) => {
        const root = join(sb.dir, name);
        await writeFiles(root, { "docker-compose.yml": COMPOSE + extra, "app.env": "", ".env": "" });
        return (slot: number) =>
          resolveSlot(makeContext({ cwd: root, env, exec: counting }), {
            dir: root,
            file: "docker-compose.yml",
            project: `${name}-slot-${slot}`,
            vars: { MC_WEB_PORT: 8090 + slot },
          });
      };
      const linear = await project("linear", "    container_name: linear-slot-${MC_WEB_PORT}\n");
      await linear(1);
      await linear(2);
      assert.equal(configs, 2, "the first two slots ask Compose");
      const derived = await linear(3);
      assert.equal(configs, 2, "the third is derived from the proven template");
      await Deno.remove(join(sb.home, "cache"), { recursive: true });
      assert.deepEqual(derived.model.doc, (await linear(3)).model.doc, "and equals what Compose prints");
      assert.deepEqual(derived.model.ports.map((p) => p.published), [8093]);

      // A literal that happens to equal slot 1's port does not move with the slot: never derived.
      const pinned = await project("pinned", "    labels:\n      pinned: '8091'\n");
      const before = configs;
      for (const slot of [1, 2, 3, 4]) await pinned(slot);
      assert.equal(configs, before + 4, "a template that did not swap cleanly is never used");
      const services = (await pinned(4)).model.doc.services as Record<
        string,
        { labels: Record<string, string> }
      >;
      assert.equal(services.web.labels.pinned, "8091");
    }),
});
