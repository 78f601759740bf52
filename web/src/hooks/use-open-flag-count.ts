/**
 * The number of open flags, for the Flags link of a moderator or admin: counted when the
 * link shows and again whenever the moderators' topic tells of a flag made or resolved, so
 * a new report shows at once. null while unknown, and for anyone else.
 */
import { useEffect, useState } from "react";
import { useChat } from "../chat-context.js";
import { reportError } from "../logger.js";

/** Counted up to this (one page); more shows as "99+". */
export const openFlagCap = 100;

export function useOpenFlagCount(shown: boolean): number | null {
  const { admin } = useChat();
  const [count, setCount] = useState<number | null>(null);
  useEffect(() => {
    if (!shown) return;
    let latest = 0;
    let stopped = false;
    const recount = () => {
      const asked = ++latest;
      admin.openFlagCount(openFlagCap).then(
        (n) => {
          // Only the answer to the latest count is shown: they may come back out of order.
          if (!stopped && asked === latest) setCount(n);
        },
        (error: unknown) => reportError("counting the open flags", error),
      );
    };
    recount();
    const stop = admin.onFlagsChanged(recount);
    return () => {
      stopped = true;
      stop();
    };
  }, [admin, shown]);
  return shown ? count : null;
}
