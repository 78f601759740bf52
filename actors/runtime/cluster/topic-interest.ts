/**
 * Which topics this node listens to on the bus, for its own subscribers, and what the
 * transport must hear about the cluster: that events may have been missed (clients must
 * resume) and that actors moved between nodes (presence sessions are told again).
 */

import type { Logger } from "../../../core/logger.js";
import type { NodeBus } from "../../../core/ports.js";
import type { TopicInterest } from "../actor-system.js";
import { eventTopic } from "./bus-codec.js";

/** The start of the ids of `nodeId`'s presence sessions. */
export const sessionPrefixOf = (nodeId: string) => `${nodeId}/`;

/** A node's topic interest, as bus subscriptions. */
export class BusTopicInterest implements TopicInterest {
  /** Bus topics this node listens on for its own subscribers. */
  private readonly topics = new Map<string, Promise<void>>();
  private resumeHandler: () => void = () => {};
  private ownersMovedHandler: (moved: (key: string) => boolean) => void = () => {};

  constructor(
    private readonly bus: Pick<NodeBus, "subscribe" | "unsubscribe">,
    private readonly nodeId: string,
    private readonly log: Logger,
  ) {}

  /** Called when the bus came back after a loss: events may have been missed, clients must resume. */
  onResumeNeeded(handler: () => void): void {
    this.resumeHandler = handler;
  }

  onOwnersMoved(handler: (moved: (key: string) => boolean) => void): void {
    this.ownersMovedHandler = handler;
  }

  get sessionPrefix(): string {
    return sessionPrefixOf(this.nodeId);
  }

  /** Makes sure events of `topic` published on other nodes reach this node. */
  want(topic: string): Promise<void> {
    let ready = this.topics.get(topic);
    if (!ready) {
      ready = this.bus.subscribe(eventTopic(topic));
      // A failed subscribe is retried by the next want.
      ready.catch(() => this.topics.delete(topic));
      this.topics.set(topic, ready);
    }
    return ready;
  }

  /** This node has no subscriber of `topic` left. */
  drop(topic: string): void {
    if (!this.topics.delete(topic)) return;
    this.bus
      .unsubscribe(eventTopic(topic))
      // A topic left subscribed only costs unused deliveries until the next resubscribe.
      .catch((err: unknown) => this.log.warn({ err, topic }, "could not unsubscribe from a bus topic"));
  }

  /** Tells the transport that events may have been missed. */
  resumeNeeded(): void {
    this.resumeHandler();
  }

  /** Tells the transport that the actors of the keys `moved` says yes to moved between nodes. */
  ownersMoved(moved: (key: string) => boolean): void {
    this.ownersMovedHandler(moved);
  }
}
