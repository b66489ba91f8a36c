/**
 * What this kinfra is. Run from source it says so; `scripts/build.ts` maps the `#build` import to a
 * stamped copy of this module (version, commit, target) for the binaries and the bundle it makes.
 */
import meta from "../../deno.json" with { type: "json" };

export const BUILD = { version: meta.version, commit: "source", target: "deno run" };
