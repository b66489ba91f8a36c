/**
 * Every part of the proxy process, in the order they reconcile. A new part is a file under
 * core/proxy/ implementing `ProxyPart` (part.ts) and one line here.
 */
import type { PartFactory } from "./part.ts";
import { checkoutPart } from "./checkout_part.ts";
import { routerPart } from "./router_part.ts";

export const PARTS: PartFactory[] = [checkoutPart, routerPart];
