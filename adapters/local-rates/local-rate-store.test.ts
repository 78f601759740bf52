/** The in-memory rate store: the shared contract. */
import { describeRateStoreContract } from "../rate-store-contract.js";
import { LocalRateStore } from "./local-rate-store.js";

describeRateStoreContract("local memory", async () => ({
  open: async () => new LocalRateStore(),
  cleanup: async () => {},
}));
