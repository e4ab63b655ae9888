import { IncomingMessage } from 'http';
import { Duplex } from 'stream';
import { DELEGATE_NAME } from '../../config/extension-config-sidecar';
import { AuthenticationError, InputError, ProxyError, ServiceUnavailableError } from '../../errors';
import { Logger } from '../../logger';
import { writeErrorToSocket } from '../../proxy/socket-error';
import { ProxyMetrics } from '../../metrics';
import {
  AGENT_ID_HEADER,
  NAME_HEADER,
  OLD_UPGRADE_PROTOCOL,
  sameSecret,
  UPGRADE_PROTOCOL,
} from '../protocol/protocol';
import { TunnelSession } from '../protocol/tunnel-session';

/** What `/delegates` on the admin port and `argocd-extension-proxy delegates` show. */
export interface TunnelInfo {
  name: string;
  agent: string;
  remoteAddress: string;
  connectedAt: string;
  activeStreams: number;
  bytesSent: number;
  bytesReceived: number;
}

export interface DelegateHubOptions {
  logger: Logger;
  metrics: ProxyMetrics;
  /** The delegate tokens in force (argocd-secret `delegate.<name>.token`). */
  tokens: () => Map<string, string>;
  /** How often each tunnel is pinged; a ping unanswered for as long closes it. */
  pingIntervalMs: number;
  /** Called with the delegate names that have a tunnel here, whenever that set changes. */
  onHeldChange?: (names: string[]) => void;
}

/** One connected agent: a tunnel session over the upgraded socket (the sidecar opens streams). */
export class Tunnel {
  activeStreams = 0;
  /** This delegate's child of the streams gauge, looked up once (not per request). */
  streamsGauge?: { inc(): void; dec(): void };
  readonly connectedAt = new Date();
  private pingTimer?: NodeJS.Timeout;
  private pingOutstanding = false;

  constructor(
    readonly name: string,
    readonly agent: string,
    /** The token it authenticated with: a rotation that removes it closes the tunnel. */
    readonly token: string,
    readonly socket: Duplex & { remoteAddress?: string; bytesRead?: number; bytesWritten?: number },
    readonly session: TunnelSession,
  ) {}

  get usable(): boolean {
    return !this.session.isClosed && !this.session.isGoingAway;
  }

  info(): TunnelInfo {
    return {
      name: this.name,
      agent: this.agent,
      remoteAddress: this.socket.remoteAddress ?? '',
      connectedAt: this.connectedAt.toISOString(),
      activeStreams: this.activeStreams,
      bytesSent: this.socket.bytesWritten ?? 0,
      bytesReceived: this.socket.bytesRead ?? 0,
    };
  }

  startPings(intervalMs: number, onDead: () => void): void {
    this.pingTimer = setInterval(() => {
      // The previous ping is still unanswered after a whole interval: the agent is gone
      // (or the path to it is), even if no FIN or RST ever arrives.
      if (this.pingOutstanding) return onDead();
      this.pingOutstanding = true;
      this.session.ping(() => {
        this.pingOutstanding = false;
      });
    }, intervalMs);
    this.pingTimer.unref();
  }

  stopPings(): void {
    clearInterval(this.pingTimer);
  }
}

/**
 * The sidecar's end of the delegate tunnels: accepts agents on
 * `/extensions/.delegate/connect` (see protocol/protocol.ts), keeps the live tunnels by
 * delegate name, and hands the least busy one to each request. Several agents with one name share
 * the load; when one goes away its tunnels leave the set and the others carry on.
 */
export class DelegateHub {
  private readonly tunnels = new Map<string, Set<Tunnel>>();
  /** Bytes of tunnels that have closed, so the byte counters never go backwards. */
  private readonly closedBytes = new Map<string, { sent: number; received: number }>();
  private closing = false;

  constructor(private readonly options: DelegateHubOptions) {
    options.metrics.registerDelegateCollector(() => this.byteTotals());
  }

  /** The least busy live tunnel of `name`, or undefined when no agent of that name is connected. */
  pick(name: string): Tunnel | undefined {
    let best: Tunnel | undefined;
    for (const tunnel of this.tunnels.get(name) ?? []) {
      if (!tunnel.usable) continue;
      if (!best || tunnel.activeStreams < best.activeStreams) best = tunnel;
    }
    return best;
  }

  connected(name: string): boolean {
    return this.pick(name) !== undefined;
  }

  list(): TunnelInfo[] {
    const infos: TunnelInfo[] = [];
    for (const set of this.tunnels.values()) for (const t of set) infos.push(t.info());
    return infos.sort((a, b) => a.name.localeCompare(b.name) || a.agent.localeCompare(b.agent));
  }

  /**
   * An agent's upgrade request. Anything wrong gets one short answer and a closed socket;
   * an unknown name and a wrong token get the same answer, so names cannot be probed.
   */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { logger, metrics } = this.options;
    const remote = req.socket.remoteAddress;
    const name = headerValue(req.headers[NAME_HEADER]);
    const refuse = (err: ProxyError, reason: string) => {
      metrics.delegateConnections.inc({ result: 'rejected' });
      logger.warn('delegate connection refused', { delegate: name, remote, reason });
      writeErrorToSocket(socket, err);
    };
    if (this.closing) return refuse(new ServiceUnavailableError('shutting down'), 'shutting down');
    const upgrade = headerValue(req.headers.upgrade)?.toLowerCase();
    if (upgrade === OLD_UPGRADE_PROTOCOL) {
      return refuse(
        new InputError(
          'this agent speaks an older delegate tunnel protocol; run the same version of argocd-extension-proxy as the sidecar',
        ),
        'agent of an older version',
      );
    }
    if (req.method !== 'GET' || upgrade !== UPGRADE_PROTOCOL) {
      return refuse(new InputError('not a delegate connection'), 'bad upgrade request');
    }
    if (!name || !DELEGATE_NAME.test(name)) {
      return refuse(new InputError(`the ${NAME_HEADER} header must name the delegate`), 'bad name');
    }
    const auth = headerValue(req.headers.authorization) ?? '';
    const given = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    let expected: string | undefined;
    try {
      expected = this.options.tokens().get(name);
    } catch (err) {
      // No valid configuration loaded yet: nothing to check the token against.
      return refuse(err as ProxyError, 'no configuration');
    }
    // SECURITY: constant-time comparison; a token is bound to its delegate name.
    if (!given || expected === undefined || !sameSecret(given, expected)) {
      return refuse(
        new AuthenticationError('delegate authentication failed'),
        'unknown delegate or wrong token',
      );
    }
    const agent = (headerValue(req.headers[AGENT_ID_HEADER]) ?? '').slice(0, 200) || 'unknown';
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${UPGRADE_PROTOCOL}\r\n\r\n`,
      // Starting the tunnel with the 101 still being written can break the TLS socket.
      (err) => (err ? socket.destroy() : this.open(name, agent, expected, socket, head)),
    );
  }

  /**
   * After a configuration reload: tunnels whose delegate was removed or whose token was
   * rotated away are closed (their agents reconnect with the new token, or not at all).
   */
  revalidate(tokens: Map<string, string>): void {
    for (const [name, set] of this.tunnels) {
      const token = tokens.get(name);
      for (const tunnel of set) {
        if (token !== undefined && sameSecret(tunnel.token, token)) continue;
        this.options.logger.warn('closing delegate tunnel: its token is no longer valid', {
          delegate: name,
          agent: tunnel.agent,
        });
        tunnel.session.destroy();
      }
    }
  }

  /** Shutdown: refuse new agents; GOAWAY lets streams in flight finish, then closes. */
  close(): void {
    this.closing = true;
    for (const set of this.tunnels.values()) {
      for (const tunnel of set) {
        tunnel.stopPings();
        tunnel.session.close();
      }
    }
  }

  /** Shutdown, past its deadline: cut every tunnel. */
  destroy(): void {
    for (const set of this.tunnels.values()) for (const tunnel of set) tunnel.session.destroy();
  }

  private open(name: string, agent: string, token: string, socket: Duplex, head: Buffer): void {
    const { logger, metrics } = this.options;
    if (head.length > 0) socket.unshift(head);
    // A peer's FIN must end the tunnel at once, not at the next failed ping.
    socket.once('end', () => socket.destroy());
    (socket as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    // Filled in below; the session only calls back once the socket closes.
    const holder: { tunnel?: Tunnel } = {};
    const session = new TunnelSession(socket, {
      role: 'client',
      onClose: (err) => {
        if (err)
          logger.warn('delegate tunnel error', { delegate: name, agent, error: err.message });
        const tunnel = holder.tunnel as Tunnel;
        tunnel.stopPings();
        const set = this.tunnels.get(name);
        set?.delete(tunnel);
        if (set && set.size === 0) this.tunnels.delete(name);
        const totals = this.closedBytes.get(name) ?? { sent: 0, received: 0 };
        totals.sent += tunnel.socket.bytesWritten ?? 0;
        totals.received += tunnel.socket.bytesRead ?? 0;
        this.closedBytes.set(name, totals);
        metrics.delegateTunnels.set({ delegate: name }, this.tunnels.get(name)?.size ?? 0);
        if (!this.tunnels.has(name)) this.options.onHeldChange?.([...this.tunnels.keys()]);
        socket.destroy();
        logger.info('delegate disconnected', { delegate: name, agent });
      },
    });
    const tunnel = new Tunnel(name, agent, token, socket, session);
    holder.tunnel = tunnel;
    tunnel.startPings(this.options.pingIntervalMs, () => {
      logger.warn('delegate tunnel unresponsive; closing it', { delegate: name, agent });
      session.destroy();
    });
    let set = this.tunnels.get(name);
    const first = !set;
    if (!set) this.tunnels.set(name, (set = new Set()));
    set.add(tunnel);
    if (first) this.options.onHeldChange?.([...this.tunnels.keys()]);
    metrics.delegateConnections.inc({ result: 'accepted' });
    metrics.delegateTunnels.set({ delegate: name }, set.size);
    logger.info('delegate connected', { delegate: name, agent, tunnels: set.size });
  }

  private byteTotals(): Array<{ name: string; sent: number; received: number }> {
    const totals = new Map<string, { sent: number; received: number }>();
    for (const [name, closed] of this.closedBytes) totals.set(name, { ...closed });
    for (const [name, set] of this.tunnels) {
      const total = totals.get(name) ?? { sent: 0, received: 0 };
      for (const t of set) {
        total.sent += t.socket.bytesWritten ?? 0;
        total.received += t.socket.bytesRead ?? 0;
      }
      totals.set(name, total);
    }
    return [...totals].map(([name, t]) => ({ name, ...t }));
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
