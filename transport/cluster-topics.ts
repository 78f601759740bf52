/**
 * In a cluster, events are made on the node that owns their actor; a node asks for the
 * topics its connections listen to (TopicInterest) and gives them up when none listens
 * any more. On a single node there is no interest, and this does nothing.
 */
import type { TemplatedApp } from "@trufflesuite/uws-js-unofficial";
import type { TopicInterest } from "../actors/runtime/actor-system.js";

/** The topics this node's connections listen to, as the cluster is told of them. */
export class ClusterTopics {
  /** Cluster: `sub` calls under way per topic; their topic must stay wanted until the grant. */
  private readonly subsUnderWay = new Map<string, number>();

  constructor(
    private readonly app: TemplatedApp,
    /** In a cluster: where the gateway says which topics its connections listen to. */
    private readonly interest?: TopicInterest,
  ) {}

  /** True in a cluster, where a `sub` must first have its channel's events reach this node. */
  get clustered(): boolean {
    return this.interest !== undefined;
  }

  /** Asks for a topic's events, with nothing waiting for them to arrive (a user's personal topic). */
  want(topic: string): void {
    this.interest?.want(topic).catch(() => {});
  }

  /** A `sub` of `topic` starts; resolves once the topic's events reach this node. Cluster only. */
  subStarted(topic: string): Promise<void> {
    this.subsUnderWay.set(topic, (this.subsUnderWay.get(topic) ?? 0) + 1);
    return this.interest!.want(topic);
  }

  /** A `sub` of `topic` is answered or failed: the topic need not stay wanted for it. */
  subEnded(topic: string): void {
    const left = (this.subsUnderWay.get(topic) ?? 1) - 1;
    if (left > 0) this.subsUnderWay.set(topic, left);
    else this.subsUnderWay.delete(topic);
    this.dropIfUnused([topic]);
  }

  /** Cluster: tells the interest about topics no connection here listens to any more. */
  dropIfUnused(topics: string[]): void {
    const interest = this.interest;
    if (!interest) return;
    // After the current callback: uWS unsubscribes a closing socket once `close` returns.
    setImmediate(() => {
      for (const topic of topics) {
        if (this.app.numSubscribers(topic) === 0 && !this.subsUnderWay.has(topic)) interest.drop(topic);
      }
    });
  }
}
