/** Builds messages for the state tests: a valid Message with only the fields a test cares about. */
import { type Message, newMessage } from "@colink/client";

export function message(fields: Partial<Message> & { id: string; seq: number }): Message {
  const base = {
    channelId: "C1",
    authorId: "Ubob",
    text: "hi",
    clientMsgId: `c-${fields.id}`,
    createdAt: 1000,
  };
  return { ...newMessage({ ...base, ...fields }), ...fields };
}
