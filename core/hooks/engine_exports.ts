/** The plugin API's share of the engine client (re-exported by plugin_api.ts). */
export { engineEndpointOf, engineRequest } from "../io/engine_api.ts";
export { tlsEngineAddress } from "../io/engine_address.ts";
export { currentContextName, dockerConfigDir, readDockerContext } from "../io/docker_context.ts";
