import type { Context, Hono, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { ApiUsageLedger, AppEnv, EmulatorContext } from '../server/context.ts';
import { errorResponse } from '../server/respond.ts';
import type { Org } from '../org/org.ts';
import { bulkUsage } from '../bulk/jobs.ts';

const MINUTE_MS = 60_000;
const WINDOW_MINUTES = 24 * 60;
/** Salesforce counts most records as 2 KB of data storage. */
const RECORD_KB = 2;
const DATA_STORAGE_MB = 10_240;

/**
 * DailyApiRequests accounting over a rolling 24 hours of org time. Calls are kept as per-minute
 * counts (at most 1,440 of them), so a benchmark's million calls cost no more than a handful.
 */
export class ApiUsage implements ApiUsageLedger {
  /** Oldest first; each entry is the calls admitted in one minute of org time. */
  private readonly buckets: { minute: number; count: number }[] = [];
  private windowTotal = 0;
  private total = 0;
  private readonly byEndpoint = new Map<string, number>();
  private readonly byClient = new Map<string, number>();

  constructor(private readonly org: Org) {}

  /** The org's DailyApiRequests allocation. */
  max(): number {
    return this.org.settings.dailyApiRequests;
  }

  used(): number {
    this.evict(this.currentMinute());
    return this.windowTotal;
  }

  /**
   * Counts one call if the allocation allows it. Returns the usage including this call, or
   * undefined when the limit is already reached (the call is refused and not counted).
   */
  admit(): number | undefined {
    const minute = this.currentMinute();
    this.evict(minute);
    if (this.windowTotal >= this.max()) return undefined;
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.minute >= minute) last.count++;
    else this.buckets.push({ minute, count: 1 });
    this.windowTotal++;
    this.total++;
    return this.windowTotal;
  }

  /** Attributes an admitted call to an endpoint (`GET /query`) and a client, for the admin API. */
  attribute(endpoint: string, client: string): void {
    this.byEndpoint.set(endpoint, (this.byEndpoint.get(endpoint) ?? 0) + 1);
    this.byClient.set(client, (this.byClient.get(client) ?? 0) + 1);
  }

  statistics(): { total: number; byEndpoint: Record<string, number>; byClient: Record<string, number> } {
    return { total: this.total, byEndpoint: Object.fromEntries(this.byEndpoint), byClient: Object.fromEntries(this.byClient) };
  }

  reset(): void {
    this.buckets.length = 0;
    this.windowTotal = 0;
    this.total = 0;
    this.byEndpoint.clear();
    this.byClient.clear();
  }

  private currentMinute(): number {
    return Math.floor(this.org.clock.nowMs() / MINUTE_MS);
  }

  private evict(minute: number): void {
    const oldest = minute - WINDOW_MINUTES;
    while (this.buckets.length && this.buckets[0]!.minute <= oldest) this.windowTotal -= this.buckets.shift()!.count;
  }
}

/**
 * Counts every call it guards against DailyApiRequests, reports usage in `Sforce-Limit-Info`
 * (which jsforce reads into `conn.limitInfo`), and past the limit answers 403
 * REQUEST_LIMIT_EXCEEDED. Mount it after `requireSession`; Bulk and streaming routes reuse it.
 */
export function countApiUsage(ctx: EmulatorContext): MiddlewareHandler<AppEnv> {
  const ledger = ctx.usage;
  return async (c, next) => {
    const used = ledger.admit();
    if (used === undefined) {
      c.header('Sforce-Limit-Info', `api-usage=${ledger.used()}/${ledger.max()}`);
      return errorResponse(c, 403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    }
    c.header('Sforce-Limit-Info', `api-usage=${used}/${ledger.max()}`);
    await next();
    ledger.attribute(endpointOf(c), clientOf(c));
  };
}

/** `GET /query`: the method and the route template below `/services/data/vXX.X`. */
function endpointOf(c: Context<AppEnv>): string {
  // After next(), the current route is the handler that answered.
  const template = routePath(c).replace(/^\/services\/data\/:version/, '');
  return `${c.req.method} ${template === '' ? '/' : template.endsWith('*') ? '/*' : template}`;
}

function clientOf(c: Context<AppEnv>): string {
  const callOptions = /(?:^|[,;\s])client=([^,;\s]+)/.exec(c.req.header('Sforce-Call-Options') ?? '');
  return callOptions?.[1] ?? c.req.header('User-Agent') ?? c.get('session')?.clientId ?? 'unknown';
}

/** `GET /limits` and `GET /limits/recordCount` of the REST API. */
export function registerLimitsRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  const limits = (c: Context<AppEnv>): Response => c.json(orgLimits(ctx));
  app.get('/limits', limits);
  app.get('/limits/', limits);

  const recordCount = (c: Context<AppEnv>): Response => {
    const schema = ctx.org.visibleSchema;
    const requested = c.req.query('sObjects');
    const names = requested
      ? requested.split(',').map((n) => n.trim()).filter(Boolean)
      : schema.objects().filter((o) => o.def.queryable).map((o) => o.name);
    const sObjects: { count: number; name: string }[] = [];
    for (const name of names) {
      const object = schema.object(name);
      // Unknown names are left out rather than failing the whole call, as Salesforce does.
      if (object) sObjects.push({ count: ctx.org.count(object.name), name: object.name });
    }
    return c.json({ sObjects });
  };
  app.get('/limits/recordCount', recordCount);
  app.get('/limits/recordCount/', recordCount);
}

interface Limit {
  Max: number;
  Remaining: number;
  [app: string]: number | { Max: number; Remaining: number };
}

/** Connected apps that Salesforce lists under per-app limits; their own allocations are 0/0. */
const PER_APP = ['Ant Migration Tool', 'Chatter Desktop', 'Chatter Mobile for BlackBerry', 'Dataloader Bulk', 'Dataloader Partner', 'Force.com IDE', 'Salesforce CLI', 'Salesforce Mobile Dashboards', 'Salesforce Touch', 'Salesforce for Outlook', 'Workbench'];

const full = (max: number): Limit => ({ Max: max, Remaining: max });

function perApp(limit: Limit): Limit {
  for (const name of PER_APP) limit[name] = { Max: 0, Remaining: 0 };
  return limit;
}

const left = (a: { max: number; used: number }): Limit => ({ Max: a.max, Remaining: Math.max(0, a.max - a.used) });

/**
 * The `/limits` body: the set an Enterprise Edition org (not a Dev Hub) reports, in Salesforce's
 * order. DailyApiRequests, the Bulk API allocations and data storage move; the emulator does not
 * meter the others.
 */
function orgLimits(ctx: EmulatorContext): Record<string, Limit> {
  const org = ctx.org;
  const max = org.settings.dailyApiRequests;
  const used = ctx.usage.used();
  let records = 0;
  for (const object of org.schema.objects()) records += org.count(object.name, true);
  const dataUsedMB = Math.ceil((records * RECORD_KB) / 1024);
  const bulk = bulkUsage(org);
  return {
    AnalyticsExternalDataSizeMB: full(40_960),
    ConcurrentAsyncGetReportInstances: full(200),
    ConcurrentEinsteinDataInsightsStoryCreation: full(5),
    ConcurrentEinsteinDiscoveryStoryCreation: full(2),
    ConcurrentSyncReportRuns: full(20),
    DailyAnalyticsDataflowJobExecutions: full(60),
    DailyAnalyticsUploadedFilesSizeMB: full(51_200),
    DailyFunctionsApiCallLimit: full(235_000),
    DailyApiRequests: perApp({ Max: max, Remaining: Math.max(0, max - used) }),
    DailyAsyncApexExecutions: full(250_000),
    DailyAsyncApexTests: full(500),
    DailyBulkApiBatches: perApp(left(bulk.ingestBatches)),
    DailyBulkV2QueryFileStorageMB: left(bulk.queryStorageMB),
    DailyBulkV2QueryJobs: left(bulk.queryJobs),
    DailyDeliveredPlatformEvents: full(50_000),
    DailyDurableGenericStreamingApiEvents: full(1_000_000),
    DailyDurableStreamingApiEvents: full(1_000_000),
    DailyEinsteinDataInsightsStoryCreation: full(1_000),
    DailyEinsteinDiscoveryPredictAPICalls: full(50_000),
    DailyEinsteinDiscoveryPredictionsByCDC: full(5_000_000),
    DailyEinsteinDiscoveryStoryCreation: full(100),
    DailyGenericStreamingApiEvents: perApp(full(10_000)),
    DailyStandardVolumePlatformEvents: full(10_000),
    DailyStreamingApiEvents: perApp(full(1_000_000)),
    DailyWorkflowEmails: full(100_000),
    DataStorageMB: { Max: DATA_STORAGE_MB, Remaining: Math.max(0, DATA_STORAGE_MB - dataUsedMB) },
    DurableStreamingApiConcurrentClients: full(2_000),
    FileStorageMB: full(10_240),
    HourlyAsyncReportRuns: full(1_200),
    HourlyDashboardRefreshes: full(200),
    HourlyDashboardResults: full(5_000),
    HourlyDashboardStatuses: full(999_999_999),
    HourlyLongTermIdMapping: full(100_000),
    HourlyManagedContentPublicRequests: full(50_000),
    HourlyODataCallout: full(20_000),
    HourlyPublishedPlatformEvents: full(250_000),
    HourlyPublishedStandardVolumePlatformEvents: full(100_000),
    HourlyShortTermIdMapping: full(100_000),
    HourlySyncReportRuns: full(500),
    HourlyTimeBasedWorkflow: full(1_000),
    MassEmail: full(5_000),
    MonthlyEinsteinDiscoveryStoryCreation: full(500),
    MonthlyPlatformEventsUsageEntitlement: full(0),
    PermissionSets: { Max: 1_500, Remaining: 1_500, CreateCustom: full(1_000) },
    PlatformEventTriggersWithParallelProcessing: full(5),
    PrivateConnectOutboundCalloutHourlyLimitMB: full(0),
    SingleEmail: full(5_000),
    StreamingApiConcurrentClients: full(2_000),
  };
}
