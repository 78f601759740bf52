/**
 * The client side of the ejabberd peer (S2): XMPP over WebSocket (RFC 7395) with SASL
 * ANONYMOUS and resource binding, then Multi-User Chat rooms (XEP-0045): join a room, send
 * a groupchat message. Deliveries are found by the fan-out marker scan like every other
 * system's; the few stanzas of log-in and joins are told apart by string checks, not
 * parsed: the server is known, and a generator must spend its CPU on load.
 */

/** The XMPP domain of the bench's ejabberd, and its MUC service. */
export const xmppDomain = "localhost";
export const mucDomain = `conference.${xmppDomain}`;

/** The WebSocket path of ejabberd's XMPP endpoint and its subprotocol. */
export const xmppWsPath = "/ws";
export const xmppSubprotocol = "xmpp";

const openStream = `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${xmppDomain}" version="1.0"/>`;

/** Occupant nicknames must differ within a room: one per connection, unique in the run. */
let nextNick = 0;
const nickStem = `n${process.pid.toString(36)}x`;

/** A room's groupchat message with `text` as its body (the marker: nothing to escape). */
export function groupchat(room: string, text: string): string {
  return `<message xmlns="jabber:client" to="${room}@${mucDomain}" type="groupchat"><body>${text}</body></message>`;
}

/** The value of attribute `name` in a stanza's first tag (ejabberd quotes with '). */
function attribute(stanza: string, name: string): string | null {
  const m = new RegExp(`\\s${name}=['"]([^'"]*)['"]`).exec(stanza.slice(0, stanza.indexOf(">") + 1));
  return m ? m[1]! : null;
}

/** One connection's XMPP session: log-in, then room joins. */
export class XmppSession {
  private readonly nick = `${nickStem}${nextNick++}`;
  private loggingIn: ((err?: Error) => void) | null = null;
  private readonly joining = new Map<string, (err?: Error) => void>();

  constructor(private readonly send: (stanza: string) => void) {}

  /** Opens the stream, authenticates anonymously and binds a resource. */
  logIn(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error("xmpp log-in timed out")), timeoutMs);
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.loggingIn = null;
        if (err) reject(err);
        else resolve();
      };
      this.loggingIn = done;
      this.send(openStream);
    });
  }

  /** Joins rooms (no history); resolves when the room has sent this occupant its own presence. */
  join(rooms: string[]): Promise<void> {
    return Promise.all(
      rooms.map(
        (room) =>
          new Promise<void>((resolve, reject) => {
            this.joining.set(room, (err) => (err ? reject(err) : resolve()));
            this.send(
              `<presence xmlns="jabber:client" to="${room}@${mucDomain}/${this.nick}">` +
                `<x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`,
            );
          }),
      ),
    ).then(() => undefined);
  }

  /** Handles a frame from the server that is not a delivery. */
  receive(stanza: string): void {
    if (this.loggingIn) {
      this.logInStep(stanza, this.loggingIn);
      return;
    }
    if (!stanza.startsWith("<presence")) return;
    const room = attribute(stanza, "from")?.split("@")[0];
    const settle = room === undefined ? undefined : this.joining.get(room);
    if (!settle) return;
    if (attribute(stanza, "type") === "error") {
      this.joining.delete(room!);
      settle(new Error(`join ${room}: ${stanza}`));
    } else if (/code=['"]110['"]/.test(stanza)) {
      // Status 110: this presence is the occupant's own, sent once the join is complete.
      this.joining.delete(room!);
      settle();
    }
  }

  private logInStep(stanza: string, done: (err?: Error) => void): void {
    if (stanza.startsWith("<open")) return;
    if (stanza.includes("features")) {
      if (stanza.includes("urn:ietf:params:xml:ns:xmpp-bind")) {
        this.send(
          `<iq xmlns="jabber:client" type="set" id="bind"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`,
        );
      } else if (stanza.includes("ANONYMOUS")) {
        this.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>`);
      } else done(new Error(`xmpp: no anonymous log-in offered: ${stanza}`));
      return;
    }
    // After SASL success the stream restarts.
    if (stanza.startsWith("<success")) this.send(openStream);
    else if (stanza.startsWith("<iq") && attribute(stanza, "type") === "result") done();
    else done(new Error(`xmpp log-in: ${stanza}`));
  }
}
