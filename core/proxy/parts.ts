/**
 * Every part of the proxy process, in the order they reconcile. A new part is a file under
 * core/proxy/ implementing `ProxyPart` (part.ts) and one line here.
 */
import type { PartFactory } from "./part.ts";
import { checkoutPart } from "./checkout_part.ts";
import { routerPart } from "./router_part.ts";
import { syncPart } from "./sync_part.ts";
import { tunnelsPart } from "./tunnels_part.ts";
import { idlePart } from "./idle_part.ts";
import { usagePart } from "./usage_part.ts";

// Tunnels before checkouts: a checked-out remote sandbox's canonical ports lead to its tunnels.
export const PARTS: PartFactory[] = [tunnelsPart, syncPart, checkoutPart, routerPart, idlePart, usagePart];
