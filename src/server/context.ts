/**
 * What the HTTP shell is wired with, and what each request knows about its caller. The server is
 * a shell: it authenticates, checks the role, validates input and calls use cases.
 */
import type { Action, SessionRecord } from '../core/users.ts';
import type { VaultNotifier } from '../notify/index.ts';
import type { ConnectOrg, SealingKeyring } from '../orgs/index.ts';
import type { BlobStore, VaultStore } from '../store/port.ts';
import type { JobQueue } from '../store/queue.ts';
import type { UserSummary } from '../users/index.ts';

export interface ServerDeps {
  store: VaultStore;
  blobs: BlobStore;
  /** Seals and unseals orgs' credentials. */
  keyring: SealingKeyring;
  /** Logs in to an org (src/salesforce's connectOrg). */
  connectAuth: ConnectOrg;
  /** The key masking is derived from (see `orgvault restore --mask`). */
  maskKey: string;
  now?: () => number;
  /** Mark cookies Secure: the server speaks HTTPS itself or sits behind a proxy that does. */
  secureCookies: boolean;
  /** Take the client's address from X-Forwarded-For (set only behind a trusted reverse proxy). */
  trustProxy: boolean;
  /** How often a run's event stream looks for changes (default one second). */
  eventIntervalMs?: number;
  /**
   * Sends the events of backups and restores started here (and `notify test`) to the orgs'
   * channels; when absent, one is built from `store` and `keyring` (see routes/notifications.ts).
   */
  notifier?: VaultNotifier;
  /**
   * The vault's work queue (a PostgreSQL vault, or `--queue`): backups started here are enqueued
   * for `orgvault worker` processes instead of running in the server. None: they run here.
   */
  queue?: JobQueue | null;
  /** Where exports started from the API or the dashboard are written, a folder per run (`<vault>/exports`); none: only zip downloads. */
  exportsDir?: string;
}

/** Who is calling: through a browser session (CSRF-checked) or an API token. */
export type Caller = { user: UserSummary; via: 'session'; session: SessionRecord } | { user: UserSummary; via: 'token'; tokenId: string };

export interface ServerEnv {
  Variables: { caller: Caller | undefined };
}

/** The action each API route needs, by route, for the role check and the OpenAPI description. */
export type RouteAction = Action | 'public' | 'signed-in';
