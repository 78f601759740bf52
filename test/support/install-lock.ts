/**
 * The lock the harnesses hold while they install a server into the shared cache
 * (`~/.cache/colink`): a file holding the holder's pid, so that test files starting at
 * once do not run Maven (or unzip) into the same place together. A lock whose holder died
 * is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";

/** Whether process `pid` is alive (0 or NaN: a lock file being written, so yes). */
function alive(pid: number): boolean {
  if (!pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs `install` holding the lock file `lock`; `what` names the install in a timeout's error. */
export async function withInstallLock<T>(lock: string, what: string, install: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number(readFileSync(lock, "utf8").trim());
    if (!alive(holder)) {
      rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`another process (${holder}) has been installing ${what} for 10 minutes`);
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    return await install();
  } finally {
    rmSync(lock, { force: true });
  }
}
