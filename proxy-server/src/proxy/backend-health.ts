import { CircuitBreakerConfig } from '../config/types';

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Passive health of one backend URL: `consecutiveFailures` failures in a row (connection
 * errors, 502/503/504 answers) open the circuit; an open circuit refuses requests for
 * `openFor`, then lets exactly one probe through (half-open): its success closes the
 * circuit, its failure opens it again.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;

  constructor(
    private readonly config: CircuitBreakerConfig,
    private readonly onChange: (state: CircuitState) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    return this.current;
  }

  /** Whether a request may go to this URL now (taking the probe slot when half-open). */
  allow(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (this.now() - this.openedAt < this.config.openForMs) return false;
      this.set('half-open');
    }
    if (this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    if (this.current !== 'closed') this.set('closed');
  }

  failure(): void {
    this.failures++;
    this.probing = false;
    if (this.current === 'half-open' || this.failures >= this.config.consecutiveFailures) {
      this.openedAt = this.now();
      if (this.current !== 'open') this.set('open');
    }
  }

  private set(state: CircuitState): void {
    this.current = state;
    this.onChange(state);
  }
}

/**
 * How many retries a service may make: every request earns `percent`/100 of a retry, every
 * retry spends one, and at most `cap` can be saved up. So retries add at most `percent`%
 * to the load a failing backend sees, whatever the traffic.
 */
export class RetryBudget {
  private tokens: number;

  constructor(
    private readonly percent: number,
    private readonly cap = 10,
  ) {
    this.tokens = percent > 0 ? cap : 0;
  }

  earn(): void {
    if (this.tokens < this.cap) this.tokens = Math.min(this.cap, this.tokens + this.percent / 100);
  }

  spend(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
