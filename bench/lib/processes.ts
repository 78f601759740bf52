/** Moved to test/support/processes.ts; kept while bench/lib/idle-rss.ts and bench/scenarios/s4-idle.ts still import it here. */
export * from "../../test/support/processes.js";
