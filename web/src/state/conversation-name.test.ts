import { describe, expect, it } from "vitest";
import type { Conversation } from "./app-state.js";
import { conversationName } from "./conversation-name.js";

const user = (id: string, name: string) => ({
  id,
  username: name,
  displayName: name,
  role: "member" as const,
  title: "",
  timeZone: "",
  avatarFileId: null,
  deactivated: false,
  createdAt: 0,
});
const conv = (kind: Conversation["kind"], name = ""): Conversation => ({
  id: "X",
  name,
  kind,
  topic: "",
  createdBy: "",
  createdAt: 0,
  archived: false,
  lastSeq: 0,
  memberCount: 0,
  myRole: "member",
});

describe("conversation names", () => {
  const users = { U1: user("U1", "me"), U2: user("U2", "carol"), U3: user("U3", "bob") };

  it("names a channel by its name and a DM by the other people", () => {
    expect(conversationName(conv("public", "general"), undefined, users, "U1")).toBe("general");
    expect(conversationName(conv("dm"), ["U1", "U2"], users, "U1")).toBe("carol");
    expect(conversationName(conv("group_dm"), ["U1", "U2", "U3"], users, "U1")).toBe("bob, carol");
    expect(conversationName(conv("dm"), ["U1"], users, "U1")).toBe("me");
  });
});
