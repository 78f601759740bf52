/** Reads the configuration: the environment, over the JSON file COLINK_CONFIG names (if any). */
import { readFileSync } from "node:fs";
import { type Config, ConfigError, parseConfig } from "../core/config.js";

/** The configuration of this process. Throws `ConfigError` naming the variable at fault. */
export function loadConfig(): Config {
  const file = process.env.COLINK_CONFIG;
  let values: Record<string, string> = {};
  if (file) {
    try {
      values = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new ConfigError("COLINK_CONFIG", `cannot read ${file}: ${(err as Error).message}`);
    }
    values = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
  }
  return parseConfig(process.env, values);
}
