/** A warning about `[sandbox.ports]` bases so close that some slots would share a port. */
import { lastPort, type PortSetting, portSpans } from "./ports.ts";

/**
 * Warns when two port variables' bases are closer than the slot range: slot n of one would be slot
 * n+k of the other. Allocation never hands out such a port twice (it skips the slot), but slots
 * are then used up faster than they need to be.
 */
export function warnCloseBases(
  ctx: { log: { warn(message: string): void } },
  ports: Record<string, PortSetting>,
  maxSlots: number,
): void {
  const sorted = Object.entries(portSpans(ports)).sort((a, b) => a[1].base - b[1].base);
  for (let i = 1; i < sorted.length; i++) {
    const [[a, sa], [b, sb]] = [sorted[i - 1], sorted[i]];
    if (sb.base <= lastPort(sa, maxSlots)) {
      ctx.log.warn(
        `${a} (${sa.base}) and ${b} (${sb.base}) are closer than the ${maxSlots}-slot range, so some slots ` +
          `would share a port; kinfra skips those. Start ${b} above ${
            lastPort(sa, maxSlots)
          } in [sandbox.ports].`,
      );
    }
  }
}
