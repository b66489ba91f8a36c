/**
 * The YAML library's `parse`, for the code that loads it lazily and needs nothing else of it
 * (Compose v1's `config` output, a slot's compose file). Import this module, not the package: in
 * the bundle split at its dynamic imports, `import("yaml")` of the CommonJS package would give only
 * its default export, with no `parse`.
 */
export { parse as parseYaml } from "yaml";
